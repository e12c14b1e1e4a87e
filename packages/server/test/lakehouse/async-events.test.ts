import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TransitEvent } from '@sirius/transit';
import { ASYNC_EVENTS_COLUMNS, asyncEventsRows } from '../../src/lakehouse/async-events.js';
import { callSiteHash } from '../../src/lakehouse/span-hash.js';
import { SpanError } from '../../src/lakehouse/span-error.js';
import type { DecodedBlock } from '../../src/lakehouse/span-blocks.js';
import { meta, rng, rowObjects, timeOf, type ScriptOptions } from './span-fixtures.js';

const T0 = 1_700_000_000_000_000_000n;
const opts: ScriptOptions = { freq: 1e6, t0: T0 };
const process = { tsc_frequency: 1e6, start_time: T0, start_ticks: 0n };

/** [begin?, absolute tick, span_id, parent_span_id, name] */
type AsyncScript = [boolean, number, number, number, string][];

function asyncBlocks(stream: string, script: AsyncScript, cuts: number[] = [], endTick?: number): DecodedBlock[] {
  const last = script.length > 0 ? script[script.length - 1]![1] : 0;
  const bounds = [0, ...cuts, endTick ?? last + 1];
  const out: DecodedBlock[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const lo = bounds[i]!;
    const hi = bounds[i + 1]!;
    const events: TransitEvent[] = script
      .filter(([, t]) => t >= lo && (t < hi || (i + 2 === bounds.length && t <= hi)))
      .map(([b, t, id, parent, name]) => ({
        kind: b ? 'begin_async_span' : 'end_async_span',
        ticks: t - lo,
        span_id: id,
        parent_span_id: parent,
        name,
        target: 'net',
        filename: 'fetch.ts',
        line: 7,
      }));
    out.push({ meta: meta(stream, `${stream}-b${i}`, lo, hi, events.length, opts), events });
  }
  return out;
}

test('a scripted process gives every column its expected value, sorted by time across streams', () => {
  // a request (1) awaits a query (2) started on another thread, which awaits a read (3) back on the first
  const main: AsyncScript = [
    [true, 0, 1, 0, 'request'],
    [true, 20, 3, 2, 'read ✓'],
    [false, 30, 3, 2, 'read ✓'],
    [false, 50, 1, 0, 'request'],
  ];
  const worker: AsyncScript = [
    [true, 10, 2, 1, 'query'],
    [false, 40, 2, 1, 'query'],
  ];
  const rows = asyncEventsRows(
    [
      { stream_id: 'main', blocks: asyncBlocks('main', main, [25]) },
      { stream_id: 'worker', blocks: asyncBlocks('worker', worker) },
    ],
    process,
  );
  assert.deepEqual(rows.columns, ASYNC_EVENTS_COLUMNS);
  assert.deepEqual(
    rows.columns.map((c) => `${c.name} ${c.type}`),
    ['stream_id VARCHAR', 'block_id VARCHAR', 'time TIMESTAMP_NS', 'event_type VARCHAR', 'span_id BIGINT', 'parent_span_id BIGINT', 'depth UINTEGER', 'hash UBIGINT', 'name VARCHAR', 'filename VARCHAR', 'target VARCHAR', 'line UINTEGER'],
  );
  const row = (stream: string, block: string, tick: number, type: string, id: number, parent: number, depth: number, name: string) => ({
    stream_id: stream,
    block_id: block,
    time: timeOf(tick, opts),
    event_type: type,
    span_id: BigInt(id),
    parent_span_id: BigInt(parent),
    depth,
    hash: callSiteHash(name, 'net', 'fetch.ts', 7),
    name,
    filename: 'fetch.ts',
    target: 'net',
    line: 7,
  });
  assert.deepEqual(rowObjects(rows), [
    row('main', 'main-b0', 0, 'begin', 1, 0, 0, 'request'),
    row('worker', 'worker-b0', 10, 'begin', 2, 1, 1, 'query'),
    row('main', 'main-b0', 20, 'begin', 3, 2, 2, 'read ✓'),
    row('main', 'main-b1', 30, 'end', 3, 2, 2, 'read ✓'),
    row('worker', 'worker-b0', 40, 'end', 2, 1, 1, 'query'),
    row('main', 'main-b1', 50, 'end', 1, 0, 0, 'request'),
  ]);
});

test('depth follows parent links even when children begin before parents are listed', () => {
  // a chain 1 ← 2 ← … ← 2000 whose events are listed deepest first in the streams
  const n = 2000;
  const script: AsyncScript = [];
  for (let id = n; id >= 1; id--) script.push([true, n - id, id, id - 1, `s${id}`]);
  const rows = rowObjects(asyncEventsRows([{ stream_id: 's', blocks: asyncBlocks('s', script, [500, 1000]) }], process));
  assert.equal(rows.length, n);
  for (const r of rows) assert.equal(r.depth, Number(r.span_id as bigint) - 1);
});

test('unknown parents, self-parents and cycles do not break depth', () => {
  const script: AsyncScript = [
    [true, 0, 10, 999, 'orphan'], // parent began before the data: a root here
    [true, 1, 11, 10, 'child of orphan'],
    [true, 2, 12, 12, 'self'],
    [true, 3, 20, 21, 'cycle a'],
    [true, 4, 21, 20, 'cycle b'],
    [false, 5, 30, 10, 'end only'], // its begin is missing: it keeps its own links
    [false, 6, 11, 10, 'child of orphan'],
  ];
  const rows = rowObjects(asyncEventsRows([{ stream_id: 's', blocks: asyncBlocks('s', script) }], process));
  const depthOf = (name: string) => rows.filter((r) => r.name === name).map((r) => r.depth);
  assert.deepEqual(depthOf('orphan'), [0]);
  assert.deepEqual(depthOf('child of orphan'), [1, 1]);
  assert.deepEqual(depthOf('self'), [0]);
  const cycle = [...depthOf('cycle a'), ...depthOf('cycle b')].sort();
  assert.deepEqual(cycle, [0, 1]);
  assert.deepEqual(depthOf('end only'), [1]);
  assert.deepEqual(rows.find((r) => r.name === 'end only')!.parent_span_id, 10n);
});

test('out-of-order and duplicated blocks, and stream order, give the same sorted rows', () => {
  const random = rng(3);
  const script: AsyncScript = [];
  const open: number[] = [];
  let next = 1;
  for (let tick = 0; tick < 2000; tick++) {
    if (open.length > 0 && random() < 0.5) {
      const id = open.splice(Math.floor(random() * open.length), 1)[0]!;
      script.push([false, tick, id, 0, `span ${id % 7}`]);
    } else {
      const id = next++;
      const parent = open.length > 0 ? open[Math.floor(random() * open.length)]! : 0;
      script.push([true, tick, id, parent, `span ${id % 7}`]);
      open.push(id);
    }
  }
  // split the script over two streams: even ticks on one, odd on the other
  const a = script.filter(([, t]) => t % 2 === 0);
  const b = script.filter(([, t]) => t % 2 === 1);
  const blocksA = asyncBlocks('a', a, [100, 700, 1300]);
  const blocksB = asyncBlocks('b', b, [555, 1555]);
  const expected = asyncEventsRows([{ stream_id: 'a', blocks: blocksA }, { stream_id: 'b', blocks: blocksB }], process);
  assert.equal(expected.length, script.length);
  const times = expected.values[2] as bigint[];
  for (let i = 1; i < times.length; i++) assert.ok(times[i - 1]! <= times[i]!, 'sorted by time');
  const shuffled = asyncEventsRows(
    [
      { stream_id: 'b', blocks: [...blocksB].reverse() },
      { stream_id: 'a', blocks: [blocksA[2]!, blocksA[0]!, blocksA[3]!, blocksA[1]!, blocksA[0]!] },
    ],
    process,
  );
  assert.deepEqual(shuffled, expected);
});

test('200 000 async events', (t) => {
  const blocks: DecodedBlock[] = [];
  const perBlock = 10_000;
  let id = 0;
  for (let b = 0; b < 20; b++) {
    const events: TransitEvent[] = [];
    const lo = b * perBlock;
    for (let k = 0; k < perBlock; k += 4) {
      // a request and a nested query: 4 events
      id += 2;
      events.push(
        { kind: 'begin_async_span', ticks: k, span_id: id - 1, parent_span_id: 0, name: 'request', target: 'net', filename: 'a.ts', line: 1 },
        { kind: 'begin_async_span', ticks: k + 1, span_id: id, parent_span_id: id - 1, name: 'query', target: 'db', filename: 'b.ts', line: 2 },
        { kind: 'end_async_span', ticks: k + 2, span_id: id, parent_span_id: id - 1, name: 'query', target: 'db', filename: 'b.ts', line: 2 },
        { kind: 'end_async_span', ticks: k + 3, span_id: id - 1, parent_span_id: 0, name: 'request', target: 'net', filename: 'a.ts', line: 1 },
      );
    }
    blocks.push({ meta: meta('s', `b${b}`, lo, lo + perBlock, events.length, opts), events });
  }
  const started = performance.now();
  const rows = asyncEventsRows([{ stream_id: 's', blocks }], process);
  t.diagnostic(`200 000 async events → rows in ${(performance.now() - started).toFixed(0)} ms`);
  assert.equal(rows.length, 200_000);
  const depth = rows.values[6] as number[];
  assert.deepEqual(depth.slice(0, 4), [0, 1, 1, 0]);
  assert.equal((rows.values[2] as bigint[])[199_999], timeOf(199_999, opts));
});

test('bad input gets a typed error; no streams give an empty batch', () => {
  assert.throws(
    () => asyncEventsRows([], { ...process, tsc_frequency: 0 }),
    (e: unknown) => e instanceof SpanError && e.code === 'invalid_process',
  );
  const empty = asyncEventsRows([], process);
  assert.equal(empty.length, 0);
  assert.equal(empty.values.length, ASYNC_EVENTS_COLUMNS.length);
});
