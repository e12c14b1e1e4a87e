import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BlockEncoder, TransitError, decodeColumns, decodePayload, forEachEvent } from '../src/index.js';
import type { TransitEvent } from '../src/index.js';
import { prng } from './support/prng.js';
import { randomLogPayload, randomMetricPayload, randomPayload } from './support/random-block.js';

/** Rebuilds event objects from the columns, merged back into payload order by a per-kind cursor. */
function eventsFromColumns(payload: Uint8Array, version: number): TransitEvent[] {
  const c = decodeColumns(payload, undefined, version);
  const s = c.tables.strings;
  const text = new TextDecoder();
  const props = (p: { propOffsets: Int32Array; propKeys: Uint32Array; propValues: Uint32Array }, i: number): Record<string, string> => {
    const out: Record<string, string> = {};
    for (let j = p.propOffsets[i]!; j < p.propOffsets[i + 1]!; j++) out[s[p.propKeys[j]!]!] = s[p.propValues[j]!]!;
    return out;
  };
  const order: string[] = [];
  forEachEvent(
    payload,
    {
      log: () => order.push('log'),
      intMetric: () => order.push('int'),
      floatMetric: () => order.push('float'),
      threadSpan: () => order.push('thread'),
      asyncSpan: () => order.push('async'),
    },
    undefined,
    undefined,
    version,
  );
  const at = { log: 0, int: 0, float: 0, thread: 0, async: 0 };
  return order.map((k): TransitEvent => {
    if (k === 'log') {
      const i = at.log++;
      const l = c.logs;
      const msg = text.decode(l.msgData.subarray(l.msgOffsets[i], l.msgOffsets[i + 1]));
      return { kind: 'log', ticks: l.ticks[i]!, level: l.level[i]!, target: s[l.target[i]!]!, msg, properties: props(l, i) };
    }
    if (k === 'int' || k === 'float') {
      const m = k === 'int' ? c.intMetrics : c.floatMetrics;
      const i = at[k]++;
      const base = { ticks: m.ticks[i]!, name: s[m.name[i]!]!, unit: s[m.unit[i]!]!, target: s[m.target[i]!]!, properties: props(m, i) };
      return k === 'int' ? { kind: 'int_metric', ...base, value: c.intMetrics.value[i]! } : { kind: 'float_metric', ...base, value: c.floatMetrics.value[i]! };
    }
    const sp = k === 'thread' ? c.threadSpans : c.asyncSpans;
    const i = at[k as 'thread' | 'async']++;
    const base = { ticks: sp.ticks[i]!, name: s[sp.name[i]!]!, target: s[sp.target[i]!]!, filename: s[sp.filename[i]!]!, line: sp.line[i]! };
    if (k === 'thread') return { kind: sp.begin[i] ? 'begin_thread_span' : 'end_thread_span', ...base };
    return {
      kind: sp.begin[i] ? 'begin_async_span' : 'end_async_span',
      ...base,
      span_id: c.asyncSpans.spanId[i]!,
      parent_span_id: c.asyncSpans.parentSpanId[i]!,
    };
  });
}

test('columns carry the same events as the object decoder, for mixed, log-only and metric-only payloads (their own loops), in both versions', () => {
  for (const version of [1, 2]) {
    for (const [seed, generate] of [[99, randomPayload], [1234, randomLogPayload], [777, randomMetricPayload]] as const) {
      const rand = prng(seed);
      for (let n = 0; n < 300; n++) {
        const { payload } = generate(rand, new BlockEncoder({ version }));
        // Columns do not distinguish a null property list from an empty one.
        const expected = decodePayload(payload, undefined, undefined, version).map((e) => ('properties' in e ? { ...e, properties: e.properties ?? {} } : e));
        assert.deepEqual(eventsFromColumns(payload, version), expected);
      }
    }
  }
});

/** Events as plain values per kind, messages as raw bytes (column decoding leaves UTF-8 checks to its consumer). */
type Raw = (number | bigint | number[])[];
interface RawEvents {
  logs: Raw[];
  ints: Raw[];
  floats: Raw[];
}

function byWalker(payload: Uint8Array, version: number): RawEvents {
  const out: RawEvents = { logs: [], ints: [], floats: [] };
  const none = () => assert.fail('not a log or a metric');
  const p = (props: Uint32Array, n: number) => [...props.subarray(0, Math.max(0, 2 * n))];
  const visitor = {
    log: (ticks: number, level: number, target: number, a: number, b: number, props: Uint32Array, n: number) => out.logs.push([ticks, level, target, [...payload.subarray(a, b)], p(props, n)]),
    intMetric: (ticks: number, m: number, value: bigint, props: Uint32Array, n: number) => out.ints.push([ticks, m, value, p(props, n)]),
    floatMetric: (ticks: number, m: number, value: number, props: Uint32Array, n: number) => out.floats.push([ticks, m, value, p(props, n)]),
    threadSpan: none,
    asyncSpan: none,
  };
  forEachEvent(payload, visitor, undefined, undefined, version);
  return out;
}

function byColumns(payload: Uint8Array, version: number): RawEvents {
  const { logs: l, intMetrics, floatMetrics } = decodeColumns(payload, undefined, version);
  const props = (c: { propOffsets: Int32Array; propKeys: Uint32Array; propValues: Uint32Array }, i: number) => {
    const p: number[] = [];
    for (let j = c.propOffsets[i]!; j < c.propOffsets[i + 1]!; j++) p.push(c.propKeys[j]!, c.propValues[j]!);
    return p;
  };
  return {
    logs: Array.from({ length: l.count }, (_, i) => [l.ticks[i]!, l.level[i]!, l.target[i]!, [...l.msgData.subarray(l.msgOffsets[i], l.msgOffsets[i + 1])], props(l, i)]),
    ints: Array.from({ length: intMetrics.count }, (_, i) => [intMetrics.ticks[i]!, intMetrics.desc[i]!, intMetrics.value[i]!, props(intMetrics, i)]),
    floats: Array.from({ length: floatMetrics.count }, (_, i) => [floatMetrics.ticks[i]!, floatMetrics.desc[i]!, floatMetrics.value[i]!, props(floatMetrics, i)]),
  };
}

test('on damaged log-only and metric-only payloads the column decoder fails exactly when the payload walker does, in both versions', () => {
  for (const [seed, generate, version] of [[4321, randomLogPayload, 2], [8765, randomMetricPayload, 2], [2468, randomLogPayload, 1]] as const) {
    const rand = prng(seed);
    let failed = 0;
    for (let n = 0; n < 3000; n++) {
      const { payload } = generate(rand, new BlockEncoder({ version }));
      const bad = payload.slice();
      // damage mostly the event sections (past the tables), where the column loops do their own reading
      const flips = 1 + Math.floor(rand() * 3);
      for (let k = 0; k < flips; k++) bad[Math.floor(payload.length / 2 + (rand() * payload.length) / 2)]! ^= 1 << Math.floor(rand() * 8);
      const cut = rand() < 0.2 ? bad.subarray(0, Math.floor(rand() * bad.length)) : bad;
      let expected: RawEvents;
      try {
        expected = byWalker(cut, version);
      } catch (e) {
        assert.ok(e instanceof TransitError, `${generate.name} case ${n}: ${String(e)}`);
        failed++;
        assert.throws(() => decodeColumns(cut, undefined, version), TransitError, `${generate.name} case ${n}: the walker rejects it, so must the columns`);
        continue;
      }
      assert.deepEqual(byColumns(cut, version), expected, `${generate.name} v${version} case ${n}`);
    }
    assert.ok(failed > 300, `${generate.name}: only ${failed} damaged payloads were rejected: the damage is too mild to test anything`);
  }
});

test('column lengths come from the header counts', () => {
  const { payload } = randomPayload(prng(3));
  const c = decodeColumns(payload);
  const total = c.logs.count + c.intMetrics.count + c.floatMetrics.count + c.threadSpans.count + c.asyncSpans.count;
  assert.equal(total, c.tables.eventCount);
  assert.equal(c.logs.ticks.length, c.logs.count);
  assert.equal(c.logs.msgOffsets.length, c.logs.count + 1);
  assert.equal(c.threadSpans.line.length, c.threadSpans.count);
});

test('an error thrown by a visitor reaches the caller unchanged', () => {
  const { payload } = randomPayload(prng(5));
  const mine = new Error('mine');
  const throwing = () => {
    throw mine;
  };
  assert.throws(
    () => forEachEvent(payload, { tables: throwing, log: throwing, intMetric: throwing, floatMetric: throwing, threadSpan: throwing, asyncSpan: throwing }),
    (e: unknown) => e === mine,
  );
});
