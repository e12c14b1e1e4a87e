/**
 * A minimal protobuf wire-format writer: varints (number or bigint), length-delimited strings and
 * nested messages. Enough for Perfetto traces without a protobuf dependency.
 *
 * Nested messages are written in place: `begin` remembers where the body starts, `end` measures it and
 * shifts it right by the size of its length prefix. Bodies are small (one packet), so the shift is cheap
 * and no temporary buffers are allocated per message.
 */
const encoder = new TextEncoder();

export class ProtoWriter {
  private buf: Uint8Array;
  private pos = 0;
  private readonly starts: number[] = [];

  constructor(initialSize = 1 << 16) {
    this.buf = new Uint8Array(initialSize);
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** a raw varint of a non-negative safe integer */
  private rawVarint(v: number): void {
    this.ensure(10);
    const b = this.buf;
    while (v >= 0x80) {
      b[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[this.pos++] = v;
  }

  private tag(field: number, wireType: number): void {
    this.rawVarint(field * 8 + wireType);
  }

  /** uint32/uint64/int32 (non-negative)/enum/bool field with a number value */
  uint(field: number, value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`varint field ${field}: ${value} is not a non-negative safe integer`);
    this.tag(field, 0);
    this.rawVarint(value);
    return this;
  }

  /** uint64/int64 field with a bigint value; negatives take their 64-bit two's complement, as int64 does */
  uint64(field: number, value: bigint): this {
    let v = BigInt.asUintN(64, value);
    this.tag(field, 0);
    this.ensure(10);
    while (v >= 0x80n) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
    return this;
  }

  string(field: number, value: string): this {
    this.tag(field, 2);
    this.ensure(value.length * 3 + 10);
    // Write the UTF-8 bytes after a maximal prefix slot, then close the gap.
    const lenPos = this.pos;
    const { written } = encoder.encodeInto(value, this.buf.subarray(lenPos + 5));
    const lenSize = varintSize(written);
    this.buf.copyWithin(lenPos + lenSize, lenPos + 5, lenPos + 5 + written);
    this.pos = lenPos;
    this.rawVarint(written);
    this.pos += written;
    return this;
  }

  /** opens a nested message field; close it with `end()` */
  begin(field: number): this {
    this.tag(field, 2);
    this.starts.push(this.pos);
    return this;
  }

  end(): this {
    const start = this.starts.pop();
    if (start === undefined) throw new Error('ProtoWriter.end() without begin()');
    const len = this.pos - start;
    const n = varintSize(len);
    this.ensure(n);
    this.buf.copyWithin(start + n, start, this.pos);
    const bodyEnd = this.pos + n;
    this.pos = start;
    this.rawVarint(len);
    this.pos = bodyEnd;
    return this;
  }

  finish(): Uint8Array {
    if (this.starts.length > 0) throw new Error('ProtoWriter.finish() with an open message');
    return this.buf.slice(0, this.pos);
  }

  /** the bytes written so far; the writer starts over, keeping its buffer unless it grew past 4 MiB */
  take(): Uint8Array {
    const out = this.finish();
    this.pos = 0;
    if (this.buf.length > 4 << 20) this.buf = new Uint8Array(1 << 16);
    return out;
  }
}

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}
