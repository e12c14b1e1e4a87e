import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTimeArg, formatNs, TimeArgError } from '../src/index.js';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const NOW_NS = BigInt(NOW) * 1_000_000n;

test('ISO-8601 instants keep every fractional digit', () => {
  assert.equal(parseTimeArg('2024-05-01T12:00:00.000000123Z'), NOW_NS + 123n);
  assert.equal(parseTimeArg('2024-05-01T12:00:00Z'), NOW_NS);
  assert.equal(parseTimeArg('2024-05-01T14:00:00+02:00'), NOW_NS);
  assert.equal(parseTimeArg('2024-05-01'), NOW_NS - 12n * 3_600_000_000_000n);
  assert.equal(parseTimeArg(new Date(NOW)), NOW_NS);
});

test('now and durations back from now', () => {
  assert.equal(parseTimeArg('now', NOW), NOW_NS);
  assert.equal(parseTimeArg('1h', NOW), NOW_NS - 3_600_000_000_000n);
  assert.equal(parseTimeArg('now-15m', NOW), NOW_NS - 900_000_000_000n);
  assert.equal(parseTimeArg('1.5s', NOW), NOW_NS - 1_500_000_000n);
  assert.equal(parseTimeArg('7d', NOW), NOW_NS - 7n * 86_400_000_000_000n);
});

test('anything else is a TimeArgError', () => {
  for (const bad of ['', 'yesterday', '1 fortnight', '2024-13-45T00:00:00Z', 'h1']) {
    assert.throws(() => parseTimeArg(bad, NOW), TimeArgError, bad);
  }
});

test('formatNs writes nanoseconds, also before the epoch', () => {
  assert.equal(formatNs(NOW_NS + 123n), '2024-05-01T12:00:00.000000123Z');
  assert.equal(formatNs(-1n), '1969-12-31T23:59:59.999999999Z');
});
