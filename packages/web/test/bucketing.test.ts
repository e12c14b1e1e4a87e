import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseBucket, intervalSql, alignBuckets, bucketize, NICE_BUCKETS_MS } from '../src/lib/bucketing.js';

test('bucket width leaves at least minPx per bucket and is a nice value', () => {
  const b = chooseBucket(3_600_000, 1200, 3); // 400 buckets max → ≥ 9 s → 10 s
  assert.equal(b.ms, 10_000);
  assert.equal(b.sql, "INTERVAL '10 seconds'");
  assert.ok(3_600_000 / b.ms <= 400);
  assert.equal(chooseBucket(300_000, 1200, 3).ms, 1000);
  assert.equal(chooseBucket(7 * 86_400_000, 1200, 3).ms, 30 * 60_000);
  assert.equal(chooseBucket(1000, 1200, 3).ms, 5, 'sub-second ranges get millisecond buckets');
  assert.equal(chooseBucket(1000, 1200, 3, 1000).ms, 1000, 'floor respected');
  assert.equal(chooseBucket(400 * 86_400_000, 100, 3).ms % 86_400_000, 0, 'beyond the table: whole days');
  for (const ms of NICE_BUCKETS_MS) assert.ok(chooseBucket(ms * 400, 1200, 3).ms <= ms);
});

test('interval literals use the largest whole unit', () => {
  assert.equal(intervalSql(250), "INTERVAL '250 milliseconds'");
  assert.equal(intervalSql(120_000), "INTERVAL '2 minutes'");
  assert.equal(intervalSql(90_000), "INTERVAL '90 seconds'");
  assert.equal(intervalSql(86_400_000), "INTERVAL '1 days'");
});

test('series are aligned on one axis with nulls in the gaps', () => {
  const a = alignBuckets(
    [
      { name: 'fps', t: [1000, 3000], values: { avg: [60, 58] } },
      { name: 'mem', t: [2000], values: { avg: [5] } },
    ],
    1000, 4000, 1000,
  );
  assert.deepEqual([...a.x], [1, 2, 3]);
  assert.deepEqual(a.series[0]!.values.avg, [60, null, 58]);
  assert.deepEqual(a.series[1]!.values.avg, [null, 5, null]);
  const outside = alignBuckets([{ name: 'x', t: [0, 99_000], values: { v: [1, 2] } }], 1000, 4000, 1000);
  assert.deepEqual(outside.series[0]!.values.v, [null, null, null]);
});

test('client-side buckets: min, avg, max, nearest-rank p99, counts; NaN ignored', () => {
  const times: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < 100; i++) {
    times.push(10_000 + i); // all in bucket 10 s
    values.push(100 - i); // 1..100
  }
  times.push(0, 25_000, 25_001);
  values.push(7, NaN, 3);
  const b = bucketize(times, values, 10_000);
  assert.deepEqual([...b.t], [0, 10_000, 20_000]);
  assert.deepEqual([...b.count], [1, 100, 1]);
  assert.equal(b.min[1], 1);
  assert.equal(b.max[1], 100);
  assert.equal(b.avg[1], 50.5);
  assert.equal(b.p99[1], 99);
  assert.equal(b.p99[0], 7);
  assert.equal(b.avg[2], 3);
});
