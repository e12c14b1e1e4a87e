import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseTimeExpr, resolveRange, rangeFromParams, writeRangeParams, isLive, describeRange, absoluteRange,
  formatDuration, TimeRangeError, toLocalInput, fromLocalInput,
} from '../src/lib/time-range.js';

const NOW = Date.parse('2025-03-01T12:00:00Z');

test('relative bounds count back from now in every unit', () => {
  assert.equal(parseTimeExpr('now', NOW), NOW);
  assert.equal(parseTimeExpr('now-5m', NOW), NOW - 300_000);
  assert.equal(parseTimeExpr('now-1h', NOW), NOW - 3_600_000);
  assert.equal(parseTimeExpr('now-24h', NOW), NOW - 86_400_000);
  assert.equal(parseTimeExpr('now-7d', NOW), NOW - 7 * 86_400_000);
  assert.equal(parseTimeExpr('now-30s', NOW), NOW - 30_000);
  assert.equal(parseTimeExpr('now-1w', NOW), NOW - 7 * 86_400_000);
  assert.equal(parseTimeExpr(' now-1.5h ', NOW), NOW - 5_400_000);
});

test('absolute bounds: ISO with zone, epoch milliseconds', () => {
  assert.equal(parseTimeExpr('2025-03-01T11:00:00.000Z', NOW), NOW - 3_600_000);
  assert.equal(parseTimeExpr('2025-03-01T13:00:00+01:00', NOW), NOW);
  assert.equal(parseTimeExpr(String(NOW), NOW), NOW);
});

test('bad bounds and inverted ranges are typed errors naming the input', () => {
  for (const bad of ['', 'yesterday', 'now-5', 'now+5m', 'now-5y', '2025-13-45T00:00Z', '12']) {
    assert.throws(() => parseTimeExpr(bad, NOW), (e: unknown) => e instanceof TimeRangeError && e.message.includes(`"${bad}"`));
  }
  assert.throws(() => resolveRange({ from: 'now', to: 'now-1h' }, NOW), /start before it ends/);
  assert.deepEqual(resolveRange({ from: 'now-5m', to: 'now' }, NOW), { begin: NOW - 300_000, end: NOW });
});

test('URL round trip; missing or invalid parameters fall back to the last hour', () => {
  const p = new URLSearchParams('tab=logs');
  writeRangeParams(p, { from: 'now-24h', to: 'now' });
  assert.equal(p.toString(), 'tab=logs&from=now-24h&to=now');
  assert.deepEqual(rangeFromParams(p), { from: 'now-24h', to: 'now' });
  assert.deepEqual(rangeFromParams(new URLSearchParams('')), { from: 'now-1h', to: 'now' });
  assert.deepEqual(rangeFromParams(new URLSearchParams('from=garbage&to=now')), { from: 'now-1h', to: 'now' });
  const abs = absoluteRange(NOW - 1000, NOW);
  assert.deepEqual(rangeFromParams(new URLSearchParams(`from=${abs.from}&to=${abs.to}`)), abs);
});

test('live means relative and ending now; labels name presets', () => {
  assert.equal(isLive({ from: 'now-5m', to: 'now' }), true);
  assert.equal(isLive(absoluteRange(NOW - 1000, NOW)), false);
  assert.equal(describeRange({ from: 'now-5m', to: 'now' }), 'Last 5 minutes');
  assert.equal(describeRange({ from: 'now-7d', to: 'now' }), 'Last 7 days');
  assert.equal(describeRange({ from: 'now-90s', to: 'now' }), 'Last 90s');
  assert.match(describeRange(absoluteRange(NOW - 1000, NOW)), /→/);
});

test('datetime-local inputs round trip at minute precision', () => {
  const t = Date.parse('2025-03-01T12:34:00Z');
  assert.equal(fromLocalInput(toLocalInput(t)), t);
  assert.throws(() => fromLocalInput('nope'), TimeRangeError);
});

test('durations pick a readable unit', () => {
  assert.equal(formatDuration(850), '850 ns');
  assert.equal(formatDuration(1234), '1.23 µs');
  assert.equal(formatDuration(3_400_000), '3.40 ms');
  assert.equal(formatDuration(2.5e9), '2.50 s');
  assert.equal(formatDuration(200e9), '3 m 20 s');
});
