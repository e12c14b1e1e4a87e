import { ByteReader, corrupt, truncated } from './byte-reader.js';
import { resolveLimits } from './limits.js';
import { TransitError } from './model.js';
import type { DecodeLimits } from './model.js';
import type { ResolvedLimits } from './limits.js';
import * as layout from './payload-layout.js';
import { SUPPORTED_VERSIONS, TRANSIT_VERSION } from './payload-layout.js';
import { decodeUtf8 } from './utf8.js';

// Module-local copies: under tsx's module interop every imported binding is a getter call, which showed up
// as several percent of the hot loop.
const HAS_PROPERTIES = layout.HAS_PROPERTIES;
const NEGATIVE_DELTA = layout.NEGATIVE_DELTA;
const TAG_COUNT = layout.TAG_COUNT;
const TAG_MASK = layout.TAG_MASK;
const TAG_LOG = layout.Tag.log;
const TAG_INT_METRIC = layout.Tag.intMetric;
const TAG_FLOAT_METRIC = layout.Tag.floatMetric;
const TAG_BEGIN_THREAD_SPAN = layout.Tag.beginThreadSpan;
const TAG_END_THREAD_SPAN = layout.Tag.endThreadSpan;
const TAG_BEGIN_ASYNC_SPAN = layout.Tag.beginAsyncSpan;

/**
 * The block's dependencies section, decoded once per payload. Events refer to strings and descriptors by
 * index into these arrays, so a columnar consumer can treat the ids as dictionary indices.
 */
export interface BlockTables {
  /** the payload the offsets below point into */
  readonly bytes: Uint8Array;
  /** the string table, by id */
  readonly strings: string[];
  /** UTF-8 byte range of string `i` in `bytes`: [stringStart[i], stringEnd[i]) */
  readonly stringStart: Uint32Array;
  readonly stringEnd: Uint32Array;
  /** metric descriptor `i` → string ids */
  readonly metricName: Uint32Array;
  readonly metricUnit: Uint32Array;
  readonly metricTarget: Uint32Array;
  /** span descriptor `i` → string ids and line */
  readonly spanName: Uint32Array;
  readonly spanTarget: Uint32Array;
  readonly spanFilename: Uint32Array;
  readonly spanLine: Uint32Array;
  /** events per tag: [log, int_metric, float_metric, begin_thread_span, end_thread_span, begin_async_span, end_async_span] */
  readonly counts: readonly number[];
  readonly eventCount: number;
}

/**
 * Receives the events of a payload in order, as primitives: no object is created per event.
 * `props` holds `propCount` (key id, value id) pairs in `props[0 .. 2*propCount)`; it is reused between
 * calls, so copy what you keep. `propCount` is -1 when the event has no property list (null).
 * Log messages are not interned: they are the UTF-8 bytes `tables.bytes[msgStart, msgEnd)`.
 */
export interface PayloadVisitor {
  tables?(tables: BlockTables): void;
  log(ticks: number, level: number, targetId: number, msgStart: number, msgEnd: number, props: Uint32Array, propCount: number): void;
  intMetric(ticks: number, metricId: number, value: bigint, props: Uint32Array, propCount: number): void;
  /** If present, receives the int metrics whose value fits 48 bits (as an exact number) instead of `intMetric`. */
  intMetricNumber?(ticks: number, metricId: number, value: number, props: Uint32Array, propCount: number): void;
  floatMetric(ticks: number, metricId: number, value: number, props: Uint32Array, propCount: number): void;
  threadSpan(ticks: number, begin: boolean, spanDescId: number): void;
  asyncSpan(ticks: number, begin: boolean, spanDescId: number, spanId: number, parentSpanId: number): void;
}

/**
 * Walks an uncompressed payload, calling `visitor` once per event — the allocation-light path for ETL.
 * Throws only TransitError; checks every count against the remaining bytes and `limits` before allocating.
 *
 * @example
 * let errors = 0;
 * forEachEvent(payload, { log: (t, level) => { if (level <= 2) errors++; }, intMetric() {}, floatMetric() {},
 *   threadSpan() {}, asyncSpan() {} });
 */
export function forEachEvent(payload: Uint8Array, visitor: PayloadVisitor, limits?: DecodeLimits, expectedEvents?: number, version = TRANSIT_VERSION): BlockTables {
  return guarded(() => walk(readSections(payload, limits, expectedEvents, version), visitor));
}

/** `forEachEvent` over sections already read (by a caller that looked at the header first). */
export function forEachEventIn(sections: PayloadSections, visitor: PayloadVisitor): BlockTables {
  return guarded(() => walk(sections, visitor));
}

function guarded(f: () => BlockTables): BlockTables {
  try {
    return f();
  } catch (e) {
    if (e instanceof TransitError) throw e;
    // A visitor's own errors pass through untouched; anything else from us is a decoding bug on bad input.
    if (e instanceof VisitorError) throw e.cause;
    throw new TransitError('corrupt', `undecodable payload: ${String(e)}`);
  }
}

class VisitorError {
  constructor(readonly cause: unknown) {}
}

/** A payload's tables and the three event sections, positioned at their first byte; nothing per event read yet. */
export interface PayloadSections {
  tables: BlockTables;
  ticks: ByteReader;
  ops: ByteReader;
  data: ByteReader;
  /** where a log message's length is: in the ops after its references (version 2) or before its bytes in data (1) */
  msgLengths: ByteReader;
  limits: ResolvedLimits;
}

/**
 * Reads the header and dependency tables and bounds the event sections — the part every event walk shares.
 * Throws only TransitError; callers that walk the events themselves (`decodeColumns`' log path) must apply
 * the same per-event checks as `walk` below. With `detachedData`, the payload's last that many bytes (its data
 * section, if it starts where `payload` ends) are not in `payload`: its reader is bounded past the end and must
 * not be read from, only counted.
 */
export function readSections(payload: Uint8Array, limitsIn: DecodeLimits | undefined, expectedEvents: number | undefined, version: number, detachedData = 0): PayloadSections {
  const limits = resolveLimits(limitsIn);
  if (!SUPPORTED_VERSIONS.includes(version)) throw new TransitError('unsupported_version', `transit version ${version} is not supported`);
  if (!(payload instanceof Uint8Array)) throw corrupt('payload is not a Uint8Array');
  const size = payload.length + detachedData;
  if (size > limits.maxPayloadBytes) {
    throw new TransitError('limit_exceeded', `payload of ${size} bytes exceeds maxPayloadBytes ${limits.maxPayloadBytes}`);
  }
  const r = new ByteReader(payload);
  const counts: number[] = [];
  let eventCount = 0;
  for (let i = 0; i < TAG_COUNT; i++) {
    const c = r.varuint32();
    counts.push(c);
    eventCount += c;
  }
  if (eventCount > limits.maxEvents) throw new TransitError('limit_exceeded', `${eventCount} events exceed maxEvents ${limits.maxEvents}`);
  if (expectedEvents !== undefined && eventCount !== expectedEvents) {
    throw corrupt(`payload holds ${eventCount} events, block header says ${expectedEvents}`);
  }

  // Strings: each takes at least its length byte, which bounds the count before anything is allocated.
  const nStrings = r.varuint32();
  if (nStrings > r.remaining) throw truncated();
  const stringStart = new Uint32Array(nStrings);
  const stringEnd = new Uint32Array(nStrings);
  const strings = new Array<string>(nStrings);
  for (let i = 0; i < nStrings; i++) {
    const len = r.varuint32();
    if (len > limits.maxStringBytes) throw new TransitError('limit_exceeded', `string of ${len} bytes exceeds maxStringBytes`);
    const at = r.advance(len);
    stringStart[i] = at;
    stringEnd[i] = at + len;
    strings[i] = decodeUtf8(payload, at, at + len);
  }

  const nMetrics = r.varuint32();
  if (nMetrics * 3 > r.remaining) throw truncated();
  const metricName = new Uint32Array(nMetrics);
  const metricUnit = new Uint32Array(nMetrics);
  const metricTarget = new Uint32Array(nMetrics);
  for (let i = 0; i < nMetrics; i++) {
    metricName[i] = stringRef(r, nStrings);
    metricUnit[i] = stringRef(r, nStrings);
    metricTarget[i] = stringRef(r, nStrings);
  }

  const nSpans = r.varuint32();
  if (nSpans * 4 > r.remaining) throw truncated();
  const spanName = new Uint32Array(nSpans);
  const spanTarget = new Uint32Array(nSpans);
  const spanFilename = new Uint32Array(nSpans);
  const spanLine = new Uint32Array(nSpans);
  for (let i = 0; i < nSpans; i++) {
    spanName[i] = stringRef(r, nStrings);
    spanTarget[i] = stringRef(r, nStrings);
    spanFilename[i] = stringRef(r, nStrings);
    spanLine[i] = r.varuint32();
  }

  const ticksLen = r.varuint32();
  const ticksStart = r.advance(ticksLen);
  // Every event has at least one tick byte and one op byte: a cheap bound on the declared counts.
  if (eventCount > ticksLen) throw corrupt('fewer tick bytes than declared events');
  const opsLen = r.varuint32();
  const opsStart = r.advance(opsLen);
  if (eventCount > opsLen) throw corrupt('fewer op bytes than declared events');
  const ticks = new ByteReader(payload, ticksStart, ticksStart + ticksLen);
  const ops = new ByteReader(payload, opsStart, opsStart + opsLen);
  // `detachedData` bytes of data section that are not in `payload` (see decodeLogsWithoutData): bounds only
  const data = new ByteReader(payload, r.pos, payload.length + detachedData);

  const tables: BlockTables = {
    bytes: payload,
    strings,
    stringStart,
    stringEnd,
    metricName,
    metricUnit,
    metricTarget,
    spanName,
    spanTarget,
    spanFilename,
    spanLine,
    counts,
    eventCount,
  };
  return { tables, ticks, ops, data, msgLengths: version === 1 ? data : ops, limits };
}

function walk({ tables, ticks, ops, data, msgLengths, limits }: PayloadSections, visitor: PayloadVisitor): BlockTables {
  const { counts, eventCount } = tables;
  const nStrings = tables.strings.length;
  const nMetrics = tables.metricName.length;
  const nSpans = tables.spanName.length;
  call(() => visitor.tables?.(tables));

  const intAsNumber = visitor.intMetricNumber;
  const seen = new Array<number>(TAG_COUNT).fill(0);
  const lists = new PairReader();
  let t = 0;
  let spanId = 0;
  let parentSpanId = 0;
  for (let n = 0; n < eventCount; n++) {
    const op = ops.u8();
    t = nextTicks(ticks, op, t);
    const tag = op & TAG_MASK;
    if (tag < 1 || tag > TAG_COUNT) throw corrupt(`unknown event tag ${op}`);
    if (++seen[tag - 1]! > counts[tag - 1]!) throw corrupt('more events of a kind than the header declares');
    const hasProps = (op & HAS_PROPERTIES) !== 0;
    if (hasProps && tag > TAG_FLOAT_METRIC) throw corrupt('span events carry no properties');
    switch (tag) {
      case TAG_LOG: {
        const level = ops.u8();
        const target = stringRef(ops, nStrings);
        const propCount = hasProps ? lists.read(ops, nStrings) : -1;
        const props = lists.pairs;
        const len = msgLengths.varuint32();
        if (len > limits.maxStringBytes) throw new TransitError('limit_exceeded', `message of ${len} bytes exceeds maxStringBytes`);
        const at = data.advance(len);
        try {
          visitor.log(t, level, target, at, at + len, props, propCount);
        } catch (e) {
          throw new VisitorError(e);
        }
        break;
      }
      case TAG_INT_METRIC:
      case TAG_FLOAT_METRIC: {
        const desc = ops.varuint32();
        if (desc >= nMetrics) throw corrupt(`metric descriptor ${desc} is not defined in this block`);
        const propCount = hasProps ? lists.read(ops, nStrings) : -1;
        const props = lists.pairs;
        try {
          if (tag === TAG_INT_METRIC) {
            const small = intAsNumber ? data.zigzag49() : NaN;
            if (small === small) intAsNumber!.call(visitor, t, desc, small, props, propCount);
            else visitor.intMetric(t, desc, data.zigzag64(), props, propCount);
          } else {
            const v = data.f64();
            visitor.floatMetric(t, desc, v, props, propCount);
          }
        } catch (e) {
          throw e instanceof TransitError ? e : new VisitorError(e);
        }
        break;
      }
      case TAG_BEGIN_THREAD_SPAN:
      case TAG_END_THREAD_SPAN: {
        const desc = ops.varuint32();
        if (desc >= nSpans) throw corrupt(`span descriptor ${desc} is not defined in this block`);
        try {
          visitor.threadSpan(t, tag === TAG_BEGIN_THREAD_SPAN, desc);
        } catch (e) {
          throw new VisitorError(e);
        }
        break;
      }
      default: {
        const desc = ops.varuint32();
        if (desc >= nSpans) throw corrupt(`span descriptor ${desc} is not defined in this block`);
        spanId += data.zigzag53();
        parentSpanId += data.zigzag53();
        if (spanId < 0 || spanId > Number.MAX_SAFE_INTEGER || parentSpanId < 0 || parentSpanId > Number.MAX_SAFE_INTEGER) {
          throw corrupt('span id outside 0..2^53-1');
        }
        try {
          visitor.asyncSpan(t, tag === TAG_BEGIN_ASYNC_SPAN, desc, spanId, parentSpanId);
        } catch (e) {
          throw new VisitorError(e);
        }
      }
    }
  }
  if (ticks.remaining !== 0 || ops.remaining !== 0 || data.remaining !== 0) throw corrupt('trailing bytes after the last event');
  return tables;
}

/** The event's ticks from the previous event's and its delta (negative when the op byte says so), checked. */
export function nextTicks(ticks: ByteReader, op: number, t: number): number {
  return ticksAfter(op, t, ticks.varuint53());
}

/** The event's ticks: the previous event's `t` plus or minus (the op's sign bit) the tick delta read for it. */
export function ticksAfter(op: number, t: number, delta: number): number {
  const next = op & NEGATIVE_DELTA ? t - delta : t + delta;
  if (next < 0 || next > Number.MAX_SAFE_INTEGER) throw corrupt('event ticks outside 0..2^53-1');
  return next;
}

/** Reads property lists — a count, then (key, value) string ids — into one reused buffer, with the checks every reader makes. */
export class PairReader {
  pairs = new Uint32Array(16);

  /** The list's pair count; its ids are `pairs[0 .. 2·count)`. */
  read(r: ByteReader, nStrings: number): number {
    const n = r.varuint32();
    if (n * 2 > r.remaining) throw truncated();
    if (this.pairs.length < n * 2) this.pairs = new Uint32Array(n * 2);
    const pairs = this.pairs;
    for (let k = 0; k < n * 2; k++) pairs[k] = stringRef(r, nStrings);
    return n;
  }
}

export function stringRef(r: ByteReader, nStrings: number): number {
  return knownString(r.varuint32(), nStrings);
}

/** `id`, checked against the block's string table. */
export function knownString(id: number, nStrings: number): number {
  if (id >= nStrings) throw corrupt(`string ${id} is not defined in this block`);
  return id;
}

function call(f: () => void): void {
  try {
    f();
  } catch (e) {
    throw new VisitorError(e);
  }
}
