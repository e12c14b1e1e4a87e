import { ByteReader, corrupt, shortVarint, shortVarintEnd, truncated } from './byte-reader.js';
import { TransitError } from './model.js';
import type { DecodeLimits } from './model.js';
import * as layout from './payload-layout.js';
import { TRANSIT_VERSION } from './payload-layout.js';
import { joinSections } from './sections-codec.js';
import { PairReader, forEachEventIn, knownString, nextTicks, readSections, ticksAfter } from './payload-walker.js';
import type { BlockTables, PayloadSections } from './payload-walker.js';

const HAS_PROPERTIES = layout.HAS_PROPERTIES;
const TAG_MASK = layout.TAG_MASK;
const TAG_LOG = layout.Tag.log;
const TAG_INT_METRIC = layout.Tag.intMetric;
const TAG_FLOAT_METRIC = layout.Tag.floatMetric;
const TAG_COUNT = layout.TAG_COUNT;

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
  /** cumulative message lengths, count+1 of them: message `i` is msgOffsets[i+1] - msgOffsets[i] bytes long */
  msgOffsets: Int32Array;
  /**
   * where message `i` starts in `tables.bytes`: decoding leaves messages where they are, so a consumer that
   * gathers them elsewhere (the lakehouse's batch buffer) copies each once
   */
  msgStart: Uint32Array;
  /** message `i` is msgData[msgOffsets[i], msgOffsets[i+1]) (UTF-8): every message gathered into one buffer on first access */
  readonly msgData: Uint8Array;
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
export function decodeColumns(payload: Uint8Array, limits?: DecodeLimits, version = TRANSIT_VERSION): TransitColumns {
  let sections: PayloadSections;
  try {
    sections = readSections(payload, limits, undefined, version);
    const c = sections.tables.counts;
    // A log stream's blocks hold nothing but logs: those take a loop of their own, several times faster than the
    // visitor walk (no per-event call, switch or per-kind tally). Every check the walk makes is made here too.
    if (c[0]! > 0 && c[0] === sections.tables.eventCount) return logsOnly(sections);
    // and a metrics stream's blocks nothing but metrics
    if (c[1]! + c[2]! > 0 && c[1]! + c[2]! === sections.tables.eventCount) return metricsOnly(sections);
  } catch (e) {
    throw e instanceof TransitError ? e : new TransitError('corrupt', `undecodable payload: ${String(e)}`);
  }
  return visited(sections);
}

/**
 * `decodeColumns` for a version-2 payload of logs only, given without its data section: `head` is the payload
 * up to that section, which holds the messages back to back and is `dataSize` bytes long. Such a block's
 * lengths are in its ops, so its columns need nothing from the section; `data()` produces the section only if
 * something reads the messages (`logs.msgData`, `tables.bytes`, which then becomes the whole payload). Every
 * check `decodeColumns` makes on the same payload is made, except on the messages' bytes: those are the
 * caller's (codec 2 lets the lakehouse write them into Parquet still compressed). Null when the payload is
 * anything else (another version, other events, a data section not starting where `head` ends) or its tables
 * cannot be read from `head`: decode the whole payload then, which tells a bad payload from a bad split.
 */
export function decodeLogsWithoutData(head: Uint8Array, dataSize: number, data: () => Uint8Array, limits?: DecodeLimits, version = TRANSIT_VERSION): TransitColumns | null {
  if (version < 2) return null;
  let columns: TransitColumns;
  try {
    // the counts first: a block of other events goes back to the caller before its tables are read
    const counts = new ByteReader(head);
    if (counts.varuint32() === 0) return null;
    for (let i = 1; i < TAG_COUNT; i++) if (counts.varuint32() !== 0) return null;
    let sections: PayloadSections;
    try {
      sections = readSections(head, limits, undefined, version, dataSize);
    } catch {
      // the tables may run past a `head` cut short of the data section: decodeColumns, on the whole payload, judges
      return null;
    }
    const c = sections.tables.counts;
    if (!(c[0]! > 0 && c[0] === sections.tables.eventCount) || sections.data.pos !== head.length) return null;
    columns = logsOnly(sections);
  } catch (e) {
    throw e instanceof TransitError ? e : new TransitError('corrupt', `undecodable payload: ${String(e)}`);
  }
  let payload: Uint8Array | undefined;
  Object.defineProperty(columns.tables, 'bytes', { enumerable: true, get: () => (payload ??= joinSections(head, data(), dataSize)) });
  return columns;
}

/** Columns with no events of any kind except `logs`, if given. */
function emptyColumns(tables: BlockTables, logs = logColumns(tables, { count: 0, ticks: new Float64Array(0), level: new Uint8Array(0), target: new Uint32Array(0), msgOffsets: new Int32Array(1), msgStart: new Uint32Array(0), ...emptyProps(0) })): TransitColumns {
  return {
    tables,
    logs,
    intMetrics: { ...metricColumns(0), value: new BigInt64Array(0) },
    floatMetrics: { ...metricColumns(0), value: new Float64Array(0) },
    threadSpans: spanColumns(0),
    asyncSpans: { ...spanColumns(0), spanId: new Float64Array(0), parentSpanId: new Float64Array(0) },
  };
}

/** An event of a kind a single-kind block's header did not declare: the walker's error for the same bytes. */
function unexpectedTag(op: number): never {
  const tag = op & TAG_MASK;
  if (tag < 1 || tag > TAG_COUNT) throw corrupt(`unknown event tag ${op}`);
  throw corrupt('more events of a kind than the header declares');
}

/** The payload's events, all logs, with the checks `payload-walker.ts` makes on each. */
function logsOnly(sections: PayloadSections): TransitColumns {
  const { tables } = sections;
  const count = tables.eventCount;
  const logs: LogColumns = logColumns(tables, {
    count,
    ticks: new Float64Array(count),
    level: new Uint8Array(count),
    target: new Uint32Array(count),
    msgOffsets: new Int32Array(count + 1),
    msgStart: new Uint32Array(count),
    propOffsets: new Int32Array(count + 1),
    propKeys: new Uint32Array(0),
    propValues: new Uint32Array(0),
  });
  const props = new PropBuilder();
  readLogs(sections, logs, props);
  props.finish(logs);
  return emptyColumns(tables, logs);
}

/**
 * The log loop of `logsOnly`, alone in its function: V8 compiles it on the stack (OSR) during its first long
 * call, before anything after the loop has run, and such code deoptimized at the loop's exit on every later
 * call. It ends with the check that every section was read to its end.
 *
 * The cursors are locals, not the readers' fields: the op byte, level, one-byte ids and lengths and short tick
 * deltas are read in place, and a reader (synced around the call) only takes longer varints and property lists.
 * Same checks, same errors, in the same order as the walk; the readers' loads and stores were a fifth of the
 * log decode.
 */
function readLogs({ tables, ticks: tr, ops: or, data: dr, msgLengths: lr, limits }: PayloadSections, logs: LogColumns, props: PropBuilder): void {
  const { count, ticks, level, target, msgOffsets, msgStart, propOffsets } = logs;
  // the bytes at hand (tables.bytes may be a payload still to be put together: decodeLogsWithoutData)
  const b = or.bytes;
  const nStrings = tables.strings.length;
  const maxMsg = limits.maxStringBytes;
  const lists = new PairReader();
  const opEnd = or.end;
  const ticksEnd = tr.end;
  const dataEnd = dr.end;
  const lengthsInOps = lr === or;
  let op = or.pos;
  let tp = tr.pos;
  let dp = dr.pos;
  let msgPos = 0;
  let t = 0;
  for (let i = 0; i < count; i++) {
    if (op >= opEnd) throw truncated();
    const o = b[op++]!;
    let delta = shortVarint(b, tp, ticksEnd);
    if (delta >= 0) tp = shortVarintEnd;
    else {
      tr.pos = tp;
      delta = tr.varuint53();
      tp = tr.pos;
    }
    t = ticksAfter(o, t, delta);
    ticks[i] = t;
    if ((o & TAG_MASK) !== TAG_LOG) unexpectedTag(o);
    let id: number;
    if (op + 2 <= opEnd && b[op + 1]! < 0x80) {
      level[i] = b[op]!;
      id = b[op + 1]!;
      op += 2;
    } else {
      or.pos = op;
      level[i] = or.u8();
      id = or.varuint32();
      op = or.pos;
    }
    target[i] = knownString(id, nStrings);
    if (o & HAS_PROPERTIES) {
      or.pos = op;
      const n = lists.read(or, nStrings);
      op = or.pos;
      props.add(propOffsets, i, lists.pairs, n);
    } else propOffsets[i + 1] = props.n;
    // message: its length (a 32-bit LEB128: after the ops in version 2, in data before the bytes in 1), its bytes in data
    let len: number;
    if (lengthsInOps && op < opEnd && b[op]! < 0x80) len = b[op++]!;
    else if (lengthsInOps) {
      or.pos = op;
      len = or.varuint32();
      op = or.pos;
    } else {
      dr.pos = dp;
      len = dr.varuint32();
      dp = dr.pos;
    }
    if (len > maxMsg) throw new TransitError('limit_exceeded', `message of ${len} bytes exceeds maxStringBytes`);
    if (len > dataEnd - dp) throw truncated();
    msgStart[i] = dp;
    dp += len;
    msgPos += len;
    msgOffsets[i + 1] = msgPos;
  }
  if (tp !== ticksEnd || op !== opEnd || dp !== dataEnd) throw corrupt('trailing bytes after the last event');
}

/** The payload's events, all int and float metrics, with the checks `payload-walker.ts` makes on each. */
function metricsOnly(sections: PayloadSections): TransitColumns {
  const { tables, ticks: tr, ops: or, data: dr } = sections;
  const c = tables.counts;
  const ints: IntMetricColumns = { ...metricColumns(c[1]!), value: new BigInt64Array(c[1]!) };
  const floats: FloatMetricColumns = { ...metricColumns(c[2]!), value: new Float64Array(c[2]!) };
  const intProps = new PropBuilder();
  const floatProps = new PropBuilder();
  or.pos = readMetrics(sections, ints, floats, intProps, floatProps);
  if (tr.remaining !== 0 || or.remaining !== 0 || dr.remaining !== 0) throw corrupt('trailing bytes after the last event');
  intProps.finish(ints);
  floatProps.finish(floats);
  return { ...emptyColumns(tables), intMetrics: ints, floatMetrics: floats };
}

/** The loop of `metricsOnly`, alone in its function for the reason `readLogs` gives; returns the ops cursor. */
function readMetrics({ tables, ticks: tr, ops: or, data: dr }: PayloadSections, ints: IntMetricColumns, floats: FloatMetricColumns, intProps: PropBuilder, floatProps: PropBuilder): number {
  const b = tables.bytes;
  const nStrings = tables.strings.length;
  const nMetrics = tables.metricName.length;
  const { metricName, metricUnit, metricTarget } = tables;
  const halves = new Int32Array(ints.value.buffer, 0, 2 * ints.count);
  const { ticks: iTicks, desc: iDesc, name: iName, unit: iUnit, target: iTarget, propOffsets: iPropOffsets } = ints;
  const { ticks: fTicks, desc: fDesc, name: fName, unit: fUnit, target: fTarget, propOffsets: fPropOffsets, value: fValue } = floats;
  const lists = new PairReader();
  const opEnd = or.end;
  let op = or.pos;
  let ii = 0;
  let fi = 0;
  let t = 0;
  for (let n = 0; n < tables.eventCount; n++) {
    if (op >= opEnd) throw truncated();
    const o = b[op++]!;
    t = nextTicks(tr, o, t);
    const tag = o & TAG_MASK;
    const isInt = tag === TAG_INT_METRIC;
    if (!isInt && tag !== TAG_FLOAT_METRIC) unexpectedTag(o);
    if (isInt ? ii >= ints.count : fi >= floats.count) throw corrupt('more events of a kind than the header declares');
    // the ops cursor is a local, as in `readLogs`: one-byte descriptor ids read in place, the reader for the rest
    let m: number;
    if (op < opEnd && b[op]! < 0x80) m = b[op++]!;
    else {
      or.pos = op;
      m = or.varuint32();
      op = or.pos;
    }
    if (m >= nMetrics) throw corrupt(`metric descriptor ${m} is not defined in this block`);
    let np = 0;
    if (o & HAS_PROPERTIES) {
      or.pos = op;
      np = lists.read(or, nStrings);
      op = or.pos;
    }
    const pairs = lists.pairs;
    // two copies of the same stores, each through its own locals: one path over either kind's object was
    // polymorphic and cost a third of the loop
    if (isInt) {
      iTicks[ii] = t;
      iDesc[ii] = m;
      iName[ii] = metricName[m]!;
      iUnit[ii] = metricUnit[m]!;
      iTarget[ii] = metricTarget[m]!;
      intProps.add(iPropOffsets, ii, pairs, np);
      const small = dr.zigzag49();
      if (small === small) {
        // |value| < 2^48: its two's-complement halves are exact in doubles, no BigInt needed
        const hi = Math.floor(small / TWO32);
        halves[2 * ii] = small - hi * TWO32;
        halves[2 * ii + 1] = hi;
      } else ints.value[ii] = dr.zigzag64();
      ii++;
    } else {
      fTicks[fi] = t;
      fDesc[fi] = m;
      fName[fi] = metricName[m]!;
      fUnit[fi] = metricUnit[m]!;
      fTarget[fi] = metricTarget[m]!;
      floatProps.add(fPropOffsets, fi, pairs, np);
      fValue[fi++] = dr.f64();
    }
  }
  return op;
}

/** Any mix of event kinds, through the payload walker. */
function visited(sections: PayloadSections): TransitColumns {
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
  let logMsgStart!: Uint32Array;
  let logPropOffsets!: Int32Array;
  const logProps = new PropBuilder();
  const intProps = new PropBuilder();
  const floatProps = new PropBuilder();

  const tables = forEachEventIn(
    sections,
    {
      tables(tables) {
        t = tables;
        const c = tables.counts;
        logs = logColumns(tables, {
          count: c[0]!,
          ticks: new Float64Array(c[0]!),
          level: new Uint8Array(c[0]!),
          target: new Uint32Array(c[0]!),
          msgOffsets: new Int32Array(c[0]! + 1),
          msgStart: new Uint32Array(c[0]!),
          ...emptyProps(c[0]!),
        });
        intMetrics = { ...metricColumns(c[1]!), value: new BigInt64Array(c[1]!) };
        intHalves = new Int32Array(intMetrics.value.buffer, 0, 2 * c[1]!);
        logTicks = logs.ticks;
        logLevel = logs.level;
        logTarget = logs.target;
        logMsgOffsets = logs.msgOffsets;
        logPropOffsets = logs.propOffsets;
        logMsgStart = logs.msgStart;
        floatMetrics = { ...metricColumns(c[2]!), value: new Float64Array(c[2]!) };
        threadSpans = spanColumns(c[3]! + c[4]!);
        const na = c[5]! + c[6]!;
        asyncSpans = { ...spanColumns(na), spanId: new Float64Array(na), parentSpanId: new Float64Array(na) };
      },
      log(ticks, level, target, msgStart, msgEnd, props, propCount) {
        logTicks[li] = ticks;
        logLevel[li] = level;
        logTarget[li] = target;
        logMsgStart[li] = msgStart;
        msgPos += msgEnd - msgStart;
        logProps.add(logPropOffsets, li, props, propCount);
        logMsgOffsets[++li] = msgPos;
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
  );
  logProps.finish(logs);
  intProps.finish(intMetrics);
  floatProps.finish(floatMetrics);
  return { tables, logs, intMetrics, floatMetrics, threadSpans, asyncSpans };
}

/** The columns with `msgData` built from `bytes` on first access (a class: its instances keep fast properties). */
class LazyLogColumns implements LogColumns {
  count: number;
  ticks: Float64Array;
  level: Uint8Array;
  target: Uint32Array;
  msgOffsets: Int32Array;
  msgStart: Uint32Array;
  propOffsets: Int32Array;
  propKeys: Uint32Array;
  propValues: Uint32Array;
  private data: Uint8Array | undefined;

  constructor(
    private readonly tables: BlockTables,
    c: Omit<LogColumns, 'msgData'>,
  ) {
    // field by field, in a fixed order: every instance gets the same hidden class
    this.count = c.count;
    this.ticks = c.ticks;
    this.level = c.level;
    this.target = c.target;
    this.msgOffsets = c.msgOffsets;
    this.msgStart = c.msgStart;
    this.propOffsets = c.propOffsets;
    this.propKeys = c.propKeys;
    this.propValues = c.propValues;
  }

  get msgData(): Uint8Array {
    return (this.data ??= gatherMessages(this.tables.bytes, this.msgStart, this.msgOffsets, this.count, new Uint8Array(this.msgOffsets[this.count]!), 0));
  }
}

function logColumns(tables: BlockTables, c: Omit<LogColumns, 'msgData'>): LogColumns {
  return new LazyLogColumns(tables, c);
}

/**
 * Copies messages [0, count) from `bytes` (message i at msgStart[i], msgOffsets[i+1] - msgOffsets[i] bytes
 * long) into `out` from `at` on, back to back; returns `out`. In a version-2 block of logs the messages already
 * lie back to back: one native copy. Otherwise (version 1, or logs mixed with other events) they are copied one
 * by one; short messages dominate logs, and copying them four bytes at a time through DataViews (inlined by the
 * JIT, unaligned is fine) is ~2.5× faster than a byte loop or subarray+set, which allocates a view per message.
 */
export function gatherMessages(bytes: Uint8Array, msgStart: Uint32Array, msgOffsets: Int32Array, count: number, out: Uint8Array, at: number): Uint8Array {
  if (count === 0) return out;
  if (contiguous(msgStart, msgOffsets, count)) {
    const first = msgStart[0]!;
    out.set(bytes.subarray(first, first + msgOffsets[count]! - msgOffsets[0]!), at);
    return out;
  }
  const src = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dst = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let p = at;
  for (let i = 0; i < count; i++) {
    const a = msgStart[i]!;
    const end = a + msgOffsets[i + 1]! - msgOffsets[i]!;
    if (end - a > 256) {
      out.set(bytes.subarray(a, end), p);
      p += end - a;
      continue;
    }
    let k = a;
    for (; k + 4 <= end; k += 4, p += 4) dst.setUint32(p, src.getUint32(k, true), true);
    for (; k < end; k++) out[p++] = bytes[k]!;
  }
  return out;
}

/** Whether each message starts where the one before it ends (a version-1 block fails at the second message). */
function contiguous(msgStart: Uint32Array, msgOffsets: Int32Array, count: number): boolean {
  const base = msgStart[0]! - msgOffsets[0]!;
  for (let i = 1; i < count; i++) if (msgStart[i] !== base + msgOffsets[i]!) return false;
  return true;
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
