import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BlockEncoder, decodePayload, LogLevel } from '../src/index.js';
import type { TransitEvent } from '../src/index.js';

const MAX_TICKS = Number.MAX_SAFE_INTEGER;

/** Writes `events` through the encoder API, so expected and decoded events can be compared whole. */
function encode(enc: BlockEncoder, events: TransitEvent[]): Uint8Array {
  for (const e of events) {
    switch (e.kind) {
      case 'log':
        enc.log(e.ticks, e.level, e.target, e.msg, e.properties);
        break;
      case 'int_metric':
        enc.intMetric(e.ticks, e.name, e.unit, e.target, e.value, e.properties);
        break;
      case 'float_metric':
        enc.floatMetric(e.ticks, e.name, e.unit, e.target, e.value, e.properties);
        break;
      case 'begin_thread_span':
        enc.beginThreadSpan(e.ticks, e.name, e.target, e.filename, e.line);
        break;
      case 'end_thread_span':
        enc.endThreadSpan(e.ticks, e.name, e.target, e.filename, e.line);
        break;
      case 'begin_async_span':
        enc.beginAsyncSpan(e.ticks, e.span_id, e.parent_span_id, e.name, e.target, e.filename, e.line);
        break;
      case 'end_async_span':
        enc.endAsyncSpan(e.ticks, e.span_id, e.parent_span_id, e.name, e.target, e.filename, e.line);
        break;
    }
  }
  assert.equal(enc.eventCount, events.length);
  const expectedLength = enc.byteLength;
  const payload = enc.finish();
  assert.equal(payload.length, expectedLength, 'byteLength predicts the finished size');
  assert.equal(enc.eventCount, 0);
  return payload;
}

const every: TransitEvent[] = [
  { kind: 'log', ticks: 0, level: LogLevel.info, target: 'game', msg: 'started', properties: null },
  { kind: 'log', ticks: 10, level: LogLevel.error, target: 'game', msg: '', properties: { user: 'ünïcødé ✓', '': '' } },
  { kind: 'log', ticks: 10, level: LogLevel.trace, target: '', msg: '日本語 and emoji 🎮'.repeat(40), properties: {} },
  { kind: 'int_metric', ticks: 11, name: 'frames', unit: 'count', target: 'game', value: 42n, properties: null },
  { kind: 'int_metric', ticks: 12, name: 'frames', unit: 'count', target: 'game', value: 2n ** 63n - 1n, properties: { a: 'b' } },
  { kind: 'int_metric', ticks: 13, name: 'frames', unit: 'count', target: 'game', value: -(2n ** 63n), properties: null },
  { kind: 'int_metric', ticks: 13, name: 'delta', unit: '', target: 'game', value: -1n, properties: null },
  { kind: 'float_metric', ticks: 14, name: 'fps', unit: 'hz', target: 'game', value: 59.94, properties: null },
  { kind: 'float_metric', ticks: 15, name: 'fps', unit: 'hz', target: 'game', value: NaN, properties: null },
  { kind: 'float_metric', ticks: 16, name: 'fps', unit: 'hz', target: 'game', value: Infinity, properties: null },
  { kind: 'float_metric', ticks: 17, name: 'fps', unit: 'hz', target: 'game', value: -Infinity, properties: { k: 'v' } },
  { kind: 'float_metric', ticks: 18, name: 'fps', unit: 'hz', target: 'game', value: -0, properties: null },
  { kind: 'begin_thread_span', ticks: 20, name: 'frame', target: 'game', filename: 'loop.ts', line: 0 },
  { kind: 'begin_thread_span', ticks: 21, name: 'update', target: 'game', filename: 'loop.ts', line: 2 ** 31 - 1 },
  { kind: 'end_thread_span', ticks: 22, name: 'update', target: 'game', filename: 'loop.ts', line: 2 ** 31 - 1 },
  { kind: 'end_thread_span', ticks: MAX_TICKS, name: 'frame', target: 'game', filename: 'loop.ts', line: 0 },
  { kind: 'begin_async_span', ticks: 0, span_id: MAX_TICKS, parent_span_id: 0, name: 'load', target: 'io', filename: 'a.ts', line: 7 },
  { kind: 'begin_async_span', ticks: 1, span_id: 1, parent_span_id: MAX_TICKS, name: 'read', target: 'io', filename: 'a.ts', line: 9 },
  { kind: 'end_async_span', ticks: 2, span_id: 1, parent_span_id: MAX_TICKS, name: 'read', target: 'io', filename: 'a.ts', line: 9 },
  { kind: 'end_async_span', ticks: MAX_TICKS, span_id: MAX_TICKS, parent_span_id: 0, name: 'load', target: 'io', filename: 'a.ts', line: 7 },
];

test('every event kind round-trips, extreme values included', () => {
  const decoded = decodePayload(encode(new BlockEncoder(), every));
  assert.deepEqual(decoded, every);
  const zero = decoded.find((e) => e.kind === 'float_metric' && e.ticks === 18);
  assert.ok(zero?.kind === 'float_metric' && Object.is(zero.value, -0), '-0 keeps its sign');
});

test('an empty block round-trips', () => {
  const enc = new BlockEncoder();
  assert.equal(enc.byteLength, enc.finish().length);
  assert.deepEqual(decodePayload(new BlockEncoder().finish()), []);
});

test('the encoder is reusable after finish and each block redeclares the strings it uses', () => {
  const enc = new BlockEncoder({ initialCapacity: 16 });
  const first = encode(enc, every);
  const second = encode(enc, every.slice(0, 3));
  const third = encode(enc, every);
  assert.deepEqual(decodePayload(second), every.slice(0, 3));
  assert.deepEqual(decodePayload(third), every);
  assert.deepEqual(third, first, 'same events give the same bytes: no state leaks between blocks');
});

test('repeated strings are interned: a repeated event costs a few bytes', () => {
  const enc = new BlockEncoder();
  enc.log(0, 4, 'a-rather-long-target-name', 'x', { 'a-long-property-key': 'a-long-property-value' });
  const one = enc.byteLength;
  enc.log(1, 4, 'a-rather-long-target-name', 'x', { 'a-long-property-key': 'a-long-property-value' });
  assert.ok(enc.byteLength - one <= 9, `second log took ${enc.byteLength - one} bytes`);
  enc.beginThreadSpan(2, 'a-long-span-name', 'a-rather-long-target-name', 'some/long/file/name.ts', 120);
  const two = enc.byteLength;
  enc.endThreadSpan(3, 'a-long-span-name', 'a-rather-long-target-name', 'some/long/file/name.ts', 120);
  assert.equal(enc.byteLength - two, 3, 'a span event is a tick byte, a tag and a descriptor id');
});

test('bad arguments throw and leave the block unchanged', () => {
  const enc = new BlockEncoder();
  enc.log(5, 4, 't', 'kept');
  const before = enc.byteLength;
  assert.throws(() => enc.log(-1, 4, 't', 'm'), RangeError);
  assert.throws(() => enc.log(1.5, 4, 't', 'm'), RangeError);
  assert.throws(() => enc.log(2 ** 53, 4, 't', 'm'), RangeError);
  assert.throws(() => enc.log(1, 256, 't', 'm'), RangeError);
  assert.throws(() => enc.log(1, 4, 't', 'm', { k: 1 as unknown as string }), TypeError);
  assert.throws(() => enc.intMetric(1, 'n', 'u', 't', 2n ** 63n), RangeError);
  assert.throws(() => enc.intMetric(1, 'n', 'u', 't', -(2n ** 63n) - 1n), RangeError);
  assert.throws(() => enc.intMetric(1, 'n', 'u', 't', 0.5), RangeError);
  assert.throws(() => enc.beginThreadSpan(1, 'n', 't', 'f', -1), RangeError);
  assert.throws(() => enc.beginThreadSpan(1, 'n', 't', 'f', 2 ** 32), RangeError);
  assert.throws(() => enc.beginAsyncSpan(1, -1, 0, 'n', 't', 'f', 1), RangeError);
  assert.throws(() => enc.beginAsyncSpan(1, 0, 2 ** 53, 'n', 't', 'f', 1), RangeError);
  assert.equal(enc.byteLength, before);
  assert.equal(enc.eventCount, 1);
  assert.deepEqual(decodePayload(enc.finish()), [{ kind: 'log', ticks: 5, level: 4, target: 't', msg: 'kept', properties: null }]);
});

test('number metric values are accepted as integers', () => {
  const enc = new BlockEncoder();
  enc.intMetric(0, 'n', 'u', 't', -5);
  enc.intMetric(0, 'n', 'u', 't', 2 ** 60);
  const [a, b] = decodePayload(enc.finish());
  assert.ok(a?.kind === 'int_metric' && a.value === -5n);
  assert.ok(b?.kind === 'int_metric' && b.value === 2n ** 60n);
});

test('a __proto__ property survives as an own key', () => {
  const enc = new BlockEncoder();
  const props: Record<string, string> = {};
  Object.defineProperty(props, '__proto__', { value: 'x', enumerable: true, writable: true, configurable: true });
  enc.log(0, 4, 't', 'm', props);
  const [e] = decodePayload(enc.finish());
  assert.ok(e?.kind === 'log' && e.properties !== null);
  assert.deepEqual(Object.keys(e.properties), ['__proto__']);
  assert.equal(Object.getPrototypeOf(e.properties), Object.prototype);
});

test('many distinct strings and large blocks round-trip', () => {
  const enc = new BlockEncoder();
  const expected: TransitEvent[] = [];
  for (let i = 0; i < 20_000; i++) {
    const e: TransitEvent = { kind: 'log', ticks: i * 1000, level: 1 + (i % 6), target: `t${i % 300}`, msg: `message ${i}`, properties: { id: String(i) } };
    expected.push(e);
  }
  assert.deepEqual(decodePayload(encode(enc, expected)), expected);
});

test('the worked example in docs/transit.md is what the encoder writes, in version 2 and in version 1', () => {
  const hexOf = (enc: BlockEncoder) => {
    enc.log(0, 4, 'game', 'hi', { level: '1' });
    enc.beginThreadSpan(1500, 'frame', 'game', 'loop.ts', 42);
    enc.endThreadSpan(1400, 'frame', 'game', 'loop.ts', 42);
    enc.floatMetric(20000, 'fps', 'hz', 'game', 60);
    return [...enc.finish()].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  };
  const head = '01 00 01 01 01 00 00 07 04 67 61 6d 65 05 6c 65 76 65 6c 01 31 05 66 72 61 6d 65 07 6c 6f 6f 70 2e 74 73 03 66 70 73 02 68 7a 01 05 06 00 01 03 00 04 2a 07 00 dc 0b 64 a8 91 01 ';
  // version 2: the message length (02) follows the log's ops; data holds "hi" and 60.0 alone
  assert.equal(hexOf(new BlockEncoder()), head + '0d 81 04 00 01 01 02 02 04 00 45 00 03 00 68 69 00 00 00 00 00 00 4e 40');
  // version 1: the length prefixes the message in data
  assert.equal(hexOf(new BlockEncoder({ version: 1 })), head + '0c 81 04 00 01 01 02 04 00 45 00 03 00 02 68 69 00 00 00 00 00 00 4e 40');
});
