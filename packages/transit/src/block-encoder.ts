import { ByteWriter, varuintSize } from './byte-writer.js';
import { MetricDescTable, SpanDescTable, StringTable } from './intern-table.js';
import type { Properties } from './model.js';
import { HAS_PROPERTIES, MAX_LEVEL, MAX_U32, NEGATIVE_DELTA, SUPPORTED_VERSIONS, TAG_COUNT, TRANSIT_VERSION, Tag } from './payload-layout.js';

const MAX_I64 = 0x7fffffffffffffffn;
const MIN_I64 = -0x8000000000000000n;

/**
 * Builds the uncompressed payload of one block (layout: docs/transit.md, "Payload").
 *
 * Events go into three sections — tick deltas, ops (tags and interned ids) and data (messages, values) —
 * so that the repetitive parts compress well. Interned strings and descriptors are remembered for the life
 * of the encoder (one stream), and each block re-declares the ones it uses so it decodes on its own.
 *
 * Arguments are checked before anything is written: a bad call throws a RangeError/TypeError and leaves
 * the block as it was.
 *
 * @example
 * const enc = new BlockEncoder();
 * enc.log(0, LogLevel.info, 'game', 'started');
 * enc.beginThreadSpan(1200, 'frame', 'game', 'loop.ts', 42);
 * enc.endThreadSpan(9800, 'frame', 'game', 'loop.ts', 42);
 * const payload = enc.finish(); // 3 events; enc is empty again
 */
export class BlockEncoder {
  private readonly strings = new StringTable();
  private readonly spanDescs = new SpanDescTable();
  private readonly metricDescs = new MetricDescTable();
  private readonly ticks: ByteWriter;
  private readonly ops: ByteWriter;
  private readonly data: ByteWriter;
  private readonly counts = new Array<number>(TAG_COUNT).fill(0);
  private prevTicks = 0;
  private prevSpanId = 0;
  private prevParentSpanId = 0;
  private events = 0;
  /** the payload layout written (docs/transit.md §8): the current one unless a reader needs an older one */
  readonly version: number;

  constructor(options?: { initialCapacity?: number; version?: number }) {
    const cap = options?.initialCapacity ?? 4096;
    this.version = options?.version ?? TRANSIT_VERSION;
    if (!SUPPORTED_VERSIONS.includes(this.version)) throw new RangeError(`version: ${this.version} is not one of ${SUPPORTED_VERSIONS.join(', ')}`);
    this.ticks = new ByteWriter(cap >> 1);
    this.ops = new ByteWriter(cap >> 1);
    this.data = new ByteWriter(cap >> 2);
  }

  /** Events written since the last `finish()`. */
  get eventCount(): number {
    return this.events;
  }

  /** Size in bytes that `finish()` would return now, so callers can cut blocks by size. */
  get byteLength(): number {
    let n = 0;
    for (let i = 0; i < TAG_COUNT; i++) n += varuintSize(this.counts[i]!);
    n += varuintSize(this.strings.count) + this.strings.out.pos;
    n += varuintSize(this.metricDescs.count) + this.metricDescs.out.pos;
    n += varuintSize(this.spanDescs.count) + this.spanDescs.out.pos;
    n += varuintSize(this.ticks.pos) + this.ticks.pos;
    n += varuintSize(this.ops.pos) + this.ops.pos;
    return n + this.data.pos;
  }

  log(ticks: number, level: number, target: string, msg: string, properties?: Properties | null): void {
    checkTicks(ticks);
    if (!Number.isInteger(level) || level < 0 || level > MAX_LEVEL) throw new RangeError(`level: ${level} is not an integer in 0..255`);
    checkString(target, 'target');
    checkString(msg, 'msg');
    if (properties != null) checkProperties(properties);
    const t = this.strings.id(target);
    this.event(Tag.log, ticks, properties);
    this.ops.u8(level);
    this.ops.varuint(t);
    if (properties != null) this.writeProperties(properties);
    if (this.version === 1) this.data.utf8(msg);
    else {
      // version 2: the length goes with the event's ops and the bytes alone into data, so a block of logs
      // holds its messages back to back and a reader copies them in one piece
      this.ops.varuint(this.data.utf8Bytes(msg));
    }
  }

  intMetric(ticks: number, name: string, unit: string, target: string, value: number | bigint, properties?: Properties | null): void {
    checkTicks(ticks);
    let v: bigint;
    if (typeof value === 'bigint') v = value;
    else if (Number.isInteger(value)) v = BigInt(value);
    else throw new RangeError(`value: ${value} is not an integer`);
    if (v > MAX_I64 || v < MIN_I64) throw new RangeError(`value: ${v} is outside the signed 64-bit range`);
    checkString(name, 'name');
    checkString(unit, 'unit');
    checkString(target, 'target');
    if (properties != null) checkProperties(properties);
    const d = this.metricDescs.id(this.strings, name, unit, target);
    this.event(Tag.intMetric, ticks, properties);
    this.ops.varuint(d);
    if (properties != null) this.writeProperties(properties);
    this.data.zigzag64(v);
  }

  floatMetric(ticks: number, name: string, unit: string, target: string, value: number, properties?: Properties | null): void {
    checkTicks(ticks);
    if (typeof value !== 'number') throw new TypeError('value: not a number');
    checkString(name, 'name');
    checkString(unit, 'unit');
    checkString(target, 'target');
    if (properties != null) checkProperties(properties);
    const d = this.metricDescs.id(this.strings, name, unit, target);
    this.event(Tag.floatMetric, ticks, properties);
    this.ops.varuint(d);
    if (properties != null) this.writeProperties(properties);
    this.data.f64(value);
  }

  beginThreadSpan(ticks: number, name: string, target: string, filename: string, line: number): void {
    this.threadSpan(Tag.beginThreadSpan, ticks, name, target, filename, line);
  }

  endThreadSpan(ticks: number, name: string, target: string, filename: string, line: number): void {
    this.threadSpan(Tag.endThreadSpan, ticks, name, target, filename, line);
  }

  beginAsyncSpan(ticks: number, spanId: number, parentSpanId: number, name: string, target: string, filename: string, line: number): void {
    this.asyncSpan(Tag.beginAsyncSpan, ticks, spanId, parentSpanId, name, target, filename, line);
  }

  endAsyncSpan(ticks: number, spanId: number, parentSpanId: number, name: string, target: string, filename: string, line: number): void {
    this.asyncSpan(Tag.endAsyncSpan, ticks, spanId, parentSpanId, name, target, filename, line);
  }

  /** Returns the payload and empties the encoder; interned strings stay remembered for the next block. */
  finish(): Uint8Array {
    const out = new ByteWriter(this.byteLength);
    for (let i = 0; i < TAG_COUNT; i++) out.varuint(this.counts[i]!);
    section(out, this.strings.count, this.strings.out);
    section(out, this.metricDescs.count, this.metricDescs.out);
    section(out, this.spanDescs.count, this.spanDescs.out);
    section(out, this.ticks.pos, this.ticks);
    section(out, this.ops.pos, this.ops);
    out.bytes(this.data.buf.subarray(0, this.data.pos));
    this.reset();
    return out.buf.length === out.pos ? out.buf : out.buf.slice(0, out.pos);
  }

  private reset(): void {
    this.strings.nextBlock();
    this.spanDescs.nextBlock();
    this.metricDescs.nextBlock();
    this.ticks.reset();
    this.ops.reset();
    this.data.reset();
    this.counts.fill(0);
    this.prevTicks = 0;
    this.prevSpanId = 0;
    this.prevParentSpanId = 0;
    this.events = 0;
  }

  private threadSpan(tag: number, ticks: number, name: string, target: string, filename: string, line: number): void {
    checkTicks(ticks);
    checkSpanDesc(name, target, filename, line);
    const d = this.spanDescs.id(this.strings, name, target, filename, line);
    this.event(tag, ticks, null);
    this.ops.varuint(d);
  }

  private asyncSpan(
    tag: number,
    ticks: number,
    spanId: number,
    parentSpanId: number,
    name: string,
    target: string,
    filename: string,
    line: number,
  ): void {
    checkTicks(ticks);
    if (!Number.isSafeInteger(spanId) || spanId < 0) throw new RangeError(`spanId: ${spanId} is not a non-negative safe integer`);
    if (!Number.isSafeInteger(parentSpanId) || parentSpanId < 0) {
      throw new RangeError(`parentSpanId: ${parentSpanId} is not a non-negative safe integer`);
    }
    checkSpanDesc(name, target, filename, line);
    const d = this.spanDescs.id(this.strings, name, target, filename, line);
    this.event(tag, ticks, null);
    this.ops.varuint(d);
    this.data.zigzag(spanId - this.prevSpanId);
    this.data.zigzag(parentSpanId - this.prevParentSpanId);
    this.prevSpanId = spanId;
    this.prevParentSpanId = parentSpanId;
  }

  /** Writes the tick delta and the tag byte shared by every event. */
  private event(tag: number, ticks: number, properties: Properties | null | undefined): void {
    const delta = ticks - this.prevTicks;
    this.prevTicks = ticks;
    let op = properties != null ? tag | HAS_PROPERTIES : tag;
    if (delta >= 0) {
      this.ticks.varuint(delta);
    } else {
      this.ticks.varuint(-delta);
      op |= NEGATIVE_DELTA;
    }
    this.ops.u8(op);
    this.counts[tag - 1]!++;
    this.events++;
  }

  private writeProperties(properties: Properties): void {
    const keys = Object.keys(properties);
    this.ops.varuint(keys.length);
    for (const k of keys) {
      this.ops.varuint(this.strings.id(k));
      this.ops.varuint(this.strings.id(properties[k]!));
    }
  }
}

function section(out: ByteWriter, count: number, body: ByteWriter): void {
  out.varuint(count);
  out.bytes(body.buf.subarray(0, body.pos));
}

function checkTicks(ticks: number): void {
  if (!(ticks >= 0 && Number.isSafeInteger(ticks))) throw new RangeError(`ticks: ${ticks} is not a non-negative safe integer`);
}

function checkString(s: unknown, field: string): void {
  if (typeof s !== 'string') throw new TypeError(`${field}: not a string`);
}

function checkSpanDesc(name: string, target: string, filename: string, line: number): void {
  checkString(name, 'name');
  checkString(target, 'target');
  checkString(filename, 'filename');
  if (!Number.isInteger(line) || line < 0 || line > MAX_U32) throw new RangeError(`line: ${line} is not an integer in 0..2^32-1`);
}

function checkProperties(p: Properties): void {
  if (typeof p !== 'object') throw new TypeError('properties: not an object');
  for (const k of Object.keys(p)) {
    if (typeof p[k] !== 'string') throw new TypeError(`properties.${k}: not a string`);
  }
}
