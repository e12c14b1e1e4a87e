import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BlockEncoder, TransitError, dataSectionOffset, decodeColumns, decodeLogsWithoutData, decodePayload, forEachEvent } from '../src/index.js';
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

test('decodeLogsWithoutData: the columns of decodeColumns from the payload before its data section, which it asks for only when messages are read', () => {
  for (const [seed, generate] of [[31, randomLogPayload], [32, randomMetricPayload], [33, randomPayload]] as const) {
    const rand = prng(seed);
    let detached = 0;
    for (let n = 0; n < 300; n++) {
      const { payload } = generate(rand, new BlockEncoder());
      const split = dataSectionOffset(payload);
      let asked = 0;
      const data = () => (asked++, payload.slice(split));
      const c = decodeLogsWithoutData(payload.slice(0, split), payload.length - split, data);
      const whole = decodeColumns(payload);
      if (generate !== randomLogPayload) {
        // other events read their data section while decoding: the caller decodes the whole payload
        if (whole.logs.count !== whole.tables.eventCount) assert.equal(c, null, `${generate.name} case ${n}`);
        continue;
      }
      assert.ok(c, `case ${n}`);
      detached++;
      // field by field: reading msgData would ask for the data section
      const fields = ['count', 'ticks', 'level', 'target', 'msgOffsets', 'msgStart', 'propOffsets', 'propKeys', 'propValues'] as const;
      for (const f of fields) assert.deepEqual(c.logs[f], whole.logs[f], `case ${n}: ${f}`);
      assert.deepEqual(c.tables.strings, whole.tables.strings);
      assert.equal(asked, 0, 'decoding needs no message byte');
      assert.deepEqual(c.logs.msgData, whole.logs.msgData);
      assert.equal(asked, 1);
      assert.deepEqual(c.tables.bytes, payload, 'tables.bytes becomes the whole payload');
      assert.equal(asked, 1, 'once');
    }
    if (generate === randomLogPayload) assert.equal(detached, 300);
  }
  const { payload } = randomLogPayload(prng(34), new BlockEncoder());
  const split = dataSectionOffset(payload);
  const head = payload.slice(0, split);
  const never = () => assert.fail('not asked for');
  // version 1 keeps message lengths in the data section; a split elsewhere than the data section: not this path
  assert.equal(decodeLogsWithoutData(randomLogPayload(prng(34), new BlockEncoder({ version: 1 })).payload, 0, never, undefined, 1), null);
  assert.equal(decodeLogsWithoutData(payload.slice(0, split - 1), payload.length - split + 1, never), null);
  assert.equal(decodeLogsWithoutData(payload.slice(0, split + 1), payload.length - split - 1, never), null);
  // a data section shorter or longer than the messages declared, or a section that comes back another size
  assert.throws(() => decodeLogsWithoutData(head, payload.length - split - 1, never), TransitError);
  assert.throws(() => decodeLogsWithoutData(head, payload.length - split + 1, never), TransitError);
  assert.throws(() => decodeLogsWithoutData(head, payload.length - split, () => payload.slice(split + 1))!.logs.msgData, TransitError);
  // tables it cannot read (past maxPayloadBytes here) are decodeColumns' to judge, on the whole payload
  assert.equal(decodeLogsWithoutData(head, 1 << 30, never), null);
});

test('decodeLogsWithoutData on damaged payloads: throws only where decodeColumns throws, and otherwise agrees with it or leaves it to it (null)', () => {
  const rand = prng(4242);
  const outcomes = { same: 0, null: 0, thrown: 0 };
  for (let n = 0; n < 3000; n++) {
    const { payload } = randomLogPayload(rand, new BlockEncoder());
    const split = dataSectionOffset(payload); // where the client split it, before the damage
    const bad = payload.slice();
    const flips = 1 + Math.floor(rand() * 3);
    for (let k = 0; k < flips; k++) bad[Math.floor(rand() * split)]! ^= 1 << Math.floor(rand() * 8);
    let whole: ReturnType<typeof decodeColumns> | null = null;
    try {
      whole = decodeColumns(bad);
    } catch (e) {
      assert.ok(e instanceof TransitError);
    }
    let c: ReturnType<typeof decodeColumns> | null;
    try {
      c = decodeLogsWithoutData(bad.slice(0, split), bad.length - split, () => bad.slice(split));
    } catch (e) {
      assert.ok(e instanceof TransitError, String(e));
      assert.equal(whole, null, `case ${n}: decodeColumns accepts what decodeLogsWithoutData rejected (${(e as Error).message})`);
      outcomes.thrown++;
      continue;
    }
    if (c === null) {
      outcomes.null++;
      continue;
    }
    assert.ok(whole, `case ${n}: decodeLogsWithoutData accepts what decodeColumns rejects`);
    assert.deepEqual([...c.logs.ticks], [...whole.logs.ticks]);
    assert.deepEqual(c.logs.msgOffsets, whole.logs.msgOffsets);
    assert.deepEqual(c.logs.propKeys, whole.logs.propKeys);
    outcomes.same++;
  }
  assert.ok(outcomes.thrown > 300 && outcomes.same > 300 && outcomes.null > 30, JSON.stringify(outcomes));
});
