import type { DecodeLimits } from './model.js';
import { forEachEvent } from './payload-walker.js';
import type { BlockTables } from './payload-walker.js';

/**
 * Column-oriented decoding for the lakehouse ETL: one set of parallel typed arrays per event kind, sized
 * exactly from the payload header, and no object per event. String-valued columns hold block-local string
 * ids — indices into `tables.strings` (or the UTF-8 ranges `tables.stringStart/End`) — so they can be
 * written as dictionary-encoded columns without touching the text again. Log messages, which are not
 * interned, are copied into one contiguous UTF-8 buffer with Arrow-style offsets.
 *
 * Properties are flattened: event `i` owns pairs `[propOffsets[i], propOffsets[i+1])` of `propKeys` /
 * `propValues` (string ids). An event without properties and one with an empty map both own no pairs.
 * Ticks are relative to the block's begin_ticks, as everywhere in transit.
 *
 * @example
 * const { tables, logs } = decodeColumns(payload);
 * for (let i = 0; i < logs.count; i++) if (logs.level[i]! <= 2) console.log(tables.strings[logs.target[i]!]);
 */
export interface TransitColumns {
  tables: BlockTables;
  logs: LogColumns;
  intMetrics: IntMetricColumns;
  floatMetrics: FloatMetricColumns;
  threadSpans: ThreadSpanColumns;
  asyncSpans: AsyncSpanColumns;
}

export interface PropertyColumns {
  /** length count+1 */
  propOffsets: Int32Array;
  propKeys: Uint32Array;
  propValues: Uint32Array;
}

export interface LogColumns extends PropertyColumns {
  count: number;
  ticks: Float64Array;
  level: Uint8Array;
  target: Uint32Array;
  /** message `i` is msgData[msgOffsets[i], msgOffsets[i+1]) (UTF-8); length count+1 */
  msgOffsets: Int32Array;
  msgData: Uint8Array;
}

export interface MetricColumns extends PropertyColumns {
  count: number;
  ticks: Float64Array;
  /** metric descriptor ids (tables.metricName[…] etc.) */
  desc: Uint32Array;
  name: Uint32Array;
  unit: Uint32Array;
  target: Uint32Array;
}

export interface IntMetricColumns extends MetricColumns {
  value: BigInt64Array;
}

export interface FloatMetricColumns extends MetricColumns {
  value: Float64Array;
}

interface SpanColumns {
  count: number;
  ticks: Float64Array;
  /** 1 for a begin event, 0 for an end event */
  begin: Uint8Array;
  /** span descriptor ids (tables.spanName[…] etc.) */
  desc: Uint32Array;
  name: Uint32Array;
  target: Uint32Array;
  filename: Uint32Array;
  line: Uint32Array;
}

export type ThreadSpanColumns = SpanColumns;

export interface AsyncSpanColumns extends SpanColumns {
  spanId: Float64Array;
  parentSpanId: Float64Array;
}

const TWO32 = 4294967296;

/** Decodes an uncompressed payload into columns; throws only TransitError. */
export function decodeColumns(payload: Uint8Array, limits?: DecodeLimits): TransitColumns {
  let logs!: LogColumns;
  let intMetrics!: IntMetricColumns;
  let floatMetrics!: FloatMetricColumns;
  let threadSpans!: ThreadSpanColumns;
  let asyncSpans!: AsyncSpanColumns;
  let t!: BlockTables;
  let li = 0;
  let msgPos = 0;
  let ii = 0;
  let fi = 0;
  let ti = 0;
  let ai = 0;
  let intHalves!: Int32Array;
  // the log columns as locals: the per-event callback stores through them without a property load each
  let logTicks!: Float64Array;
  let logLevel!: Uint8Array;
  let logTarget!: Uint32Array;
  let logMsgOffsets!: Int32Array;
  let logPropOffsets!: Int32Array;
  let srcBytes!: Uint8Array;
  let srcView!: DataView;
  let msgBytes!: Uint8Array;
  let msgView!: DataView;
  const logProps = new PropBuilder();
  const intProps = new PropBuilder();
  const floatProps = new PropBuilder();

  const tables = forEachEvent(
    payload,
    {
      tables(tables) {
        t = tables;
        const c = tables.counts;
        logs = {
          count: c[0]!,
          ticks: new Float64Array(c[0]!),
          level: new Uint8Array(c[0]!),
          target: new Uint32Array(c[0]!),
          msgOffsets: new Int32Array(c[0]! + 1),
          msgData: new Uint8Array(c[0]! === 0 ? 0 : payload.length),
          ...emptyProps(c[0]!),
        };
        intMetrics = { ...metricColumns(c[1]!), value: new BigInt64Array(c[1]!) };
        intHalves = new Int32Array(intMetrics.value.buffer, 0, 2 * c[1]!);
        logTicks = logs.ticks;
        logLevel = logs.level;
        logTarget = logs.target;
        logMsgOffsets = logs.msgOffsets;
        logPropOffsets = logs.propOffsets;
        srcBytes = tables.bytes;
        srcView = new DataView(srcBytes.buffer, srcBytes.byteOffset, srcBytes.byteLength);
        msgBytes = logs.msgData;
        msgView = new DataView(msgBytes.buffer, msgBytes.byteOffset, msgBytes.byteLength);
        floatMetrics = { ...metricColumns(c[2]!), value: new Float64Array(c[2]!) };
        threadSpans = spanColumns(c[3]! + c[4]!);
        const na = c[5]! + c[6]!;
        asyncSpans = { ...spanColumns(na), spanId: new Float64Array(na), parentSpanId: new Float64Array(na) };
      },
      log(ticks, level, target, msgStart, msgEnd, props, propCount) {
        logTicks[li] = ticks;
        logLevel[li] = level;
        logTarget[li] = target;
        // Short messages dominate logs: copying them four bytes at a time through DataViews (inlined by the
        // JIT, unaligned is fine) is ~2.5× faster than a byte loop or subarray+set, which allocates a view.
        const len = msgEnd - msgStart;
        let p = msgPos;
        if (len > 256) {
          msgBytes.set(srcBytes.subarray(msgStart, msgEnd), p);
          p += len;
        } else {
          let k = msgStart;
          for (; k + 4 <= msgEnd; k += 4, p += 4) msgView.setUint32(p, srcView.getUint32(k, true), true);
          for (; k < msgEnd; k++) msgBytes[p++] = srcBytes[k]!;
        }
        msgPos = p;
        if (propCount > 0) logProps.add(logPropOffsets, li, props, propCount);
        else logPropOffsets[li + 1] = logProps.n;
        logMsgOffsets[++li] = p;
      },
      intMetric(ticks, m, value, props, propCount) {
        fillMetric(intMetrics, ii, t, ticks, m);
        intProps.add(intMetrics.propOffsets, ii, props, propCount);
        intMetrics.value[ii++] = value;
      },
      intMetricNumber(ticks, m, value, props, propCount) {
        fillMetric(intMetrics, ii, t, ticks, m);
        intProps.add(intMetrics.propOffsets, ii, props, propCount);
        // |value| < 2^48: its two's-complement halves are exact in doubles, no BigInt needed
        const hi = Math.floor(value / TWO32);
        intHalves[2 * ii] = value - hi * TWO32;
        intHalves[2 * ii++ + 1] = hi;
      },
      floatMetric(ticks, m, value, props, propCount) {
        fillMetric(floatMetrics, fi, t, ticks, m);
        floatProps.add(floatMetrics.propOffsets, fi, props, propCount);
        floatMetrics.value[fi++] = value;
      },
      threadSpan(ticks, begin, d) {
        fillSpan(threadSpans, ti++, t, ticks, begin, d);
      },
      asyncSpan(ticks, begin, d, spanId, parentSpanId) {
        fillSpan(asyncSpans, ai, t, ticks, begin, d);
        asyncSpans.spanId[ai] = spanId;
        asyncSpans.parentSpanId[ai++] = parentSpanId;
      },
    },
    limits,
  );
  logs.msgData = logs.msgData.subarray(0, msgPos);
  logProps.finish(logs);
  intProps.finish(intMetrics);
  floatProps.finish(floatMetrics);
  return { tables, logs, intMetrics, floatMetrics, threadSpans, asyncSpans };
}

function emptyProps(count: number): PropertyColumns {
  return { propOffsets: new Int32Array(count + 1), propKeys: new Uint32Array(0), propValues: new Uint32Array(0) };
}

function metricColumns(n: number): MetricColumns {
  return {
    count: n,
    ticks: new Float64Array(n),
    desc: new Uint32Array(n),
    name: new Uint32Array(n),
    unit: new Uint32Array(n),
    target: new Uint32Array(n),
    ...emptyProps(n),
  };
}

function spanColumns(n: number): SpanColumns {
  return {
    count: n,
    ticks: new Float64Array(n),
    begin: new Uint8Array(n),
    desc: new Uint32Array(n),
    name: new Uint32Array(n),
    target: new Uint32Array(n),
    filename: new Uint32Array(n),
    line: new Uint32Array(n),
  };
}

function fillMetric(c: MetricColumns, i: number, t: BlockTables, ticks: number, m: number): void {
  c.ticks[i] = ticks;
  c.desc[i] = m;
  c.name[i] = t.metricName[m]!;
  c.unit[i] = t.metricUnit[m]!;
  c.target[i] = t.metricTarget[m]!;
}

function fillSpan(c: SpanColumns, i: number, t: BlockTables, ticks: number, begin: boolean, d: number): void {
  c.ticks[i] = ticks;
  c.begin[i] = begin ? 1 : 0;
  c.desc[i] = d;
  c.name[i] = t.spanName[d]!;
  c.target[i] = t.spanTarget[d]!;
  c.filename[i] = t.spanFilename[d]!;
  c.line[i] = t.spanLine[d]!;
}

/** Accumulates flattened property pairs; grows by doubling since the total is not in the header. */
class PropBuilder {
  private keys = new Uint32Array(0);
  private values = new Uint32Array(0);
  n = 0;

  /** Appends event `i`'s pairs and closes its range in `offsets`. */
  add(offsets: Int32Array, i: number, props: Uint32Array, count: number): void {
    if (count > 0) {
      if (this.n + count > this.keys.length) {
        const cap = Math.max(64, (this.n + count) * 2);
        const k = new Uint32Array(cap);
        const v = new Uint32Array(cap);
        k.set(this.keys.subarray(0, this.n));
        v.set(this.values.subarray(0, this.n));
        this.keys = k;
        this.values = v;
      }
      for (let j = 0; j < count; j++) {
        this.keys[this.n] = props[2 * j]!;
        this.values[this.n++] = props[2 * j + 1]!;
      }
    }
    offsets[i + 1] = this.n;
  }

  finish(c: PropertyColumns): void {
    c.propKeys = this.keys.subarray(0, this.n);
    c.propValues = this.values.subarray(0, this.n);
  }
}
