import type { DecodeLimits, Properties, TransitEvent } from './model.js';
import { forEachEvent } from './payload-walker.js';
import type { BlockTables, PayloadVisitor } from './payload-walker.js';
import { decodeUtf8 } from './utf8.js';

/**
 * Decodes an uncompressed payload into one object per event: the convenient form for tests, tools and
 * small blocks. For bulk ETL use `decodeColumns` or `forEachEvent`, which create no object per event.
 *
 * @example
 * const events = decodePayload(new BlockEncoder().finish()); // []
 */
export function decodePayload(payload: Uint8Array, limits?: DecodeLimits, expectedEvents?: number, version?: number): TransitEvent[] {
  const events: TransitEvent[] = [];
  let t!: BlockTables;
  let s!: string[];
  const visitor: PayloadVisitor = {
    tables(tables) {
      t = tables;
      s = tables.strings;
    },
    log(ticks, level, target, msgStart, msgEnd, props, propCount) {
      const msg = decodeUtf8(t.bytes, msgStart, msgEnd);
      events.push({ kind: 'log', ticks, level, target: s[target]!, msg, properties: toProperties(s, props, propCount) });
    },
    intMetric(ticks, m, value, props, propCount) {
      events.push({
        kind: 'int_metric',
        ticks,
        name: s[t.metricName[m]!]!,
        unit: s[t.metricUnit[m]!]!,
        target: s[t.metricTarget[m]!]!,
        value,
        properties: toProperties(s, props, propCount),
      });
    },
    floatMetric(ticks, m, value, props, propCount) {
      events.push({
        kind: 'float_metric',
        ticks,
        name: s[t.metricName[m]!]!,
        unit: s[t.metricUnit[m]!]!,
        target: s[t.metricTarget[m]!]!,
        value,
        properties: toProperties(s, props, propCount),
      });
    },
    threadSpan(ticks, begin, d) {
      events.push({
        kind: begin ? 'begin_thread_span' : 'end_thread_span',
        ticks,
        name: s[t.spanName[d]!]!,
        target: s[t.spanTarget[d]!]!,
        filename: s[t.spanFilename[d]!]!,
        line: t.spanLine[d]!,
      });
    },
    asyncSpan(ticks, begin, d, spanId, parentSpanId) {
      events.push({
        kind: begin ? 'begin_async_span' : 'end_async_span',
        ticks,
        span_id: spanId,
        parent_span_id: parentSpanId,
        name: s[t.spanName[d]!]!,
        target: s[t.spanTarget[d]!]!,
        filename: s[t.spanFilename[d]!]!,
        line: t.spanLine[d]!,
      });
    },
  };
  forEachEvent(payload, visitor, limits, expectedEvents, version);
  return events;
}

/** Builds a Properties object; `__proto__` is defined as an own key rather than assigned. */
export function toProperties(strings: string[], props: Uint32Array, count: number): Properties | null {
  if (count < 0) return null;
  const out: Properties = {};
  for (let i = 0; i < count; i++) {
    const k = strings[props[2 * i]!]!;
    const v = strings[props[2 * i + 1]!]!;
    if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    else out[k] = v;
  }
  return out;
}
