/**
 * Byte-level encodings of the direct Parquet writer: the RLE/bit-packed hybrid (definition and repetition
 * levels, dictionary indices), PLAIN byte arrays, and LZ4_RAW pages. Kept apart from the file layout so each
 * piece can be checked on its own.
 *
 * The hybrid encoder emits an RLE run for every stretch of ≥ 8 equal values and bit-packs the rest, which is
 * what makes per-block constants (one run per block) and all-present definition levels nearly free.
 *
 * @example
 *   const out = new ByteSink();
 *   hybrid(out, ids, 0, ids.length, bitWidth(dictionarySize - 1));
 */
import { compressSync } from 'lz4-napi';

/** Bits needed to store values in [0, max]; widths above 24 are written as 32 (byte-aligned, simpler). */
export function bitWidth(max: number): number {
  const w = max < 1 ? 0 : max >= 4294967296 ? 32 : 32 - Math.clz32(max);
  return w > 24 ? 32 : w;
}

/** A growable byte buffer (levels and index streams are built a byte at a time, property JSON a map at a time). */
export class ByteSink {
  buf = new Uint8Array(256);
  length = 0;

  reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }

  varint(n: number): void {
    this.reserve(10);
    while (n >= 0x80) {
      this.buf[this.length++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.length++] = n;
  }

  append(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** `v` as `bytes` little-endian bytes */
  le(v: number, bytes: number): void {
    this.reserve(bytes);
    for (let s = 0; s < bytes; s++) this.buf[this.length++] = (v >>> (8 * s)) & 0xff;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** One array type only: the bit-packing loop is the hottest of the encoder, and a second type made its loads polymorphic. */
type Values = Uint32Array;

/** Writes `count` values of `at`, from `from`, as a bit-packed run of groups of 8 (zero padded past `end`). */
function packRun(out: ByteSink, at: Values, from: number, count: number, end: number, width: number): void {
  out.varint(Math.ceil(count / 8) * 2 + 1);
  packBits(out, at, from, count, end, width);
}

/**
 * The values LSB-first at `width` bits each, in whole groups of 8 (zero padded past `end`). Three loops, each in
 * a function of its own: V8 compiled the hot group loop together with the rarely taken ones, then deoptimized
 * on every call that reached one of them without feedback (451 deopts in ten ETL runs, 15 % of the time).
 */
function packBits(out: ByteSink, at: Values, from: number, count: number, end: number, width: number): void {
  const groups = Math.ceil(count / 8);
  out.reserve(groups * width + 8);
  const stop = from + groups * 8;
  if (width === 32) {
    out.length = pack32(out.buf, out.length, at, from, stop, end);
    return;
  }
  let i = from;
  let p = out.length;
  if (width <= 8) {
    const whole = Math.min(stop, end) - from;
    const full = from + (whole - (whole & 7));
    p = packGroups(out.buf, p, at, from, full, width);
    i = full;
  }
  out.length = i < stop ? packTail(out.buf, p, at, i, stop, end, width) : p;
}

/** Whole groups of 8 values of ≤ 8 bits: at most 64 bits a group, built in two 32-bit halves, written `width` bytes at once. */
function packGroups(buf: Uint8Array, p: number, at: Values, from: number, to: number, width: number): number {
  for (let i = from; i < to; i += 8) {
    let lo = 0;
    let hi = 0;
    for (let k = 0; k < 8; k++) {
      const v = at[i + k]!;
      const bit = k * width;
      if (bit < 32) {
        lo |= v << bit;
        if (bit + width > 32) hi |= v >>> (32 - bit);
      } else hi |= v << (bit - 32);
    }
    for (let b = 0; b < width; b++) buf[p++] = b < 4 ? (lo >>> (8 * b)) & 0xff : (hi >>> (8 * (b - 4))) & 0xff;
  }
  return p;
}

/** Any width below 32, a value at a time through a bit accumulator. */
function packTail(buf: Uint8Array, p: number, at: Values, from: number, stop: number, end: number, width: number): number {
  let acc = 0;
  let bits = 0;
  for (let i = from; i < stop; i++) {
    const v = i < end ? at[i]! : 0;
    acc |= v << bits;
    bits += width;
    while (bits >= 8) {
      buf[p++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  }
  return p;
}

function pack32(buf: Uint8Array, p: number, at: Values, from: number, stop: number, end: number): number {
  for (let i = from; i < stop; i++) {
    const v = i < end ? at[i]! : 0;
    buf[p++] = v & 0xff;
    buf[p++] = (v >>> 8) & 0xff;
    buf[p++] = (v >>> 16) & 0xff;
    buf[p++] = (v >>> 24) & 0xff;
  }
  return p;
}

/**
 * The RLE/bit-packed hybrid of `at[from..to)`. Bit-packed stretches only end on a multiple of 8 values
 * (padding is only allowed at the very end), so a following RLE run lends them values.
 */
export function hybrid(out: ByteSink, at: Values, from: number, to: number, width: number): void {
  const bytes = Math.ceil(width / 8);
  let lit = from; // start of the pending bit-packed stretch
  let i = from;
  while (i < to) {
    const v = at[i]!;
    let j = i + 1;
    while (j < to && at[j] === v) j++;
    if (j - i >= 8) {
      const pad = (8 - ((i - lit) % 8)) % 8;
      if (i > lit) packRun(out, at, lit, i - lit + pad, to, width);
      else if (pad !== 0) throw new Error('hybrid: unreachable padding');
      out.varint((j - i - pad) * 2);
      out.le(v, bytes);
      lit = j;
    }
    i = j;
  }
  if (to > lit) packRun(out, at, lit, to - lit, to, width);
}

/** Levels as a v1 data page wants them: 4-byte little-endian length, then the hybrid encoding. */
export function levelBlock(at: Uint8Array, from: number, to: number, width: number): Uint8Array {
  const out = new ByteSink();
  out.le(0, 4);
  // levels are bytes; the shared hybrid takes 32-bit values (this path is for the rarer nullable shapes)
  hybrid(out, Uint32Array.from(at.subarray(from, to)), 0, to - from, width);
  return prefixed(out);
}

/**
 * Levels given as runs of equal values, encoded as they come: the same hybrid as `levelBlock` without a byte
 * per level first. Map levels are long stretches (rows without properties) broken by a few entries, so a
 * page costs about one step per stretch instead of one per row. Values must fit `width` ≤ 8 bits.
 */
export class LevelRuns {
  private readonly out = new ByteSink();
  private lits = new Uint32Array(64);
  private litCount = 0;
  private value = 0;
  private count = 0;

  constructor(private readonly width: number) {
    this.out.le(0, 4);
  }

  /** `n` more levels of value `v`. */
  add(v: number, n: number): void {
    if (v === this.value) this.count += n;
    else {
      this.close();
      this.value = v;
      this.count = n;
    }
  }

  /** The v1 data page form: 4-byte little-endian length, then the hybrid encoding. */
  block(): Uint8Array {
    this.close();
    if (this.litCount > 0) packRun(this.out, this.lits, 0, this.litCount, this.litCount, this.width);
    this.litCount = 0;
    return prefixed(this.out);
  }

  private close(): void {
    const n = this.count;
    if (n === 0) return;
    // a bit-packed stretch may only end on a multiple of 8 values: the run lends it the difference
    const pad = (8 - (this.litCount & 7)) & 7;
    if (n - pad >= 8) {
      this.literals(this.value, pad);
      if (this.litCount > 0) packRun(this.out, this.lits, 0, this.litCount, this.litCount, this.width);
      this.litCount = 0;
      this.out.varint((n - pad) * 2);
      this.out.byte(this.value);
    } else this.literals(this.value, n);
    this.count = 0;
  }

  private literals(v: number, n: number): void {
    if (this.litCount + n > this.lits.length) {
      const bigger = new Uint32Array(Math.max(this.lits.length * 2, this.litCount + n));
      bigger.set(this.lits.subarray(0, this.litCount));
      this.lits = bigger;
    }
    // n < 16: a loop beats a call to fill
    const lits = this.lits;
    for (let k = 0; k < n; k++) lits[this.litCount++] = v;
  }
}

/** `count` copies of one level (a column without nulls): a single RLE run, however many rows. */
export function constantLevels(level: number, count: number): Uint8Array {
  const out = new ByteSink();
  out.le(0, 4);
  if (count > 0) {
    out.varint(count * 2);
    out.byte(level);
  }
  return prefixed(out);
}

/** The v1 level block of `out`, whose first 4 bytes were left for its length. */
export function prefixed(out: ByteSink): Uint8Array {
  const b = out.bytes();
  new DataView(b.buffer, b.byteOffset).setUint32(0, b.length - 4, true);
  return b;
}

/** PLAIN BYTE_ARRAY: each value as a 4-byte little-endian length and its bytes. */
export function plainTexts(values: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const v of values) n += 4 + v.length;
  const out = new Uint8Array(n);
  const view = new DataView(out.buffer);
  let p = 0;
  for (const v of values) {
    view.setUint32(p, v.length, true);
    out.set(v, p + 4);
    p += 4 + v.length;
  }
  return out;
}

/** Rows [r0, r1) of a UTF-8 column (row i is data[offsets[i], offsets[i+1])), skipping absent rows, PLAIN. */
export function plainTextRange(data: Uint8Array, offsets: Int32Array, present: Uint8Array | undefined, r0: number, r1: number): Uint8Array {
  let count = 0;
  if (present) for (let i = r0; i < r1; i++) count += present[i]!;
  else count = r1 - r0;
  const out = new Uint8Array(offsets[r1]! - offsets[r0]! + 4 * count);
  let p = 0;
  for (let i = r0; i < r1; i++) {
    if (present && present[i] === 0) continue;
    const a = offsets[i]!;
    const b = offsets[i + 1]!;
    const len = b - a;
    out[p] = len;
    out[p + 1] = len >>> 8;
    out[p + 2] = len >>> 16;
    out[p + 3] = len >>> 24;
    p += 4;
    if (len > 64) {
      out.set(data.subarray(a, b), p);
      p += len;
    } else for (let k = a; k < b; k++) out[p++] = data[k]!;
  }
  return out;
}

export function bytesOf(a: Int32Array | Float64Array | Uint8Array | Uint32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** zigzag of a safe integer, as a non-negative number */
const zig = (n: number): number => (n >= 0 ? n * 2 : -n * 2 - 1);

let scratch = Buffer.allocUnsafe(0);

/** Parquet's LZ4_RAW codec id. */
export const LZ4_RAW = 7;

/**
 * One LZ4 block of the concatenated parts. lz4-napi prefixes its output with the uncompressed size (4 bytes,
 * little-endian); LZ4_RAW pages are the bare block, so the prefix is cut off.
 */
export function lz4Raw(parts: readonly Uint8Array[]): { data: Uint8Array; rawSize: number } {
  let n = 0;
  for (const p of parts) n += p.length;
  // the parts are joined into one reused scratch buffer (compressSync copies nothing back into it), so a
  // partition's pages do not each allocate their uncompressed size again
  if (scratch.length < n) scratch = Buffer.allocUnsafe(Math.max(n, scratch.length * 2));
  let at = 0;
  for (const p of parts) {
    scratch.set(p, at);
    at += p.length;
  }
  const c = compressSync(scratch.subarray(0, n));
  if (c.readUInt32LE(0) !== n) throw new Error(`lz4-napi: unexpected size prefix ${c.readUInt32LE(0)} for ${n} bytes`);
  return { data: c.subarray(4), rawSize: n };
}

/** A cursor over an LZ4 block, for the two readers of its sequence headers below. */
interface Lz4Cursor {
  block: Uint8Array;
  at: number;
}

/**
 * An LZ4 length field: `nibble` from the token, plus the extension bytes at the cursor when the nibble is 15
 * (each adds its value; 255 means another follows). -1 when the block ends inside the field.
 */
function lz4Length(c: Lz4Cursor, nibble: number): number {
  if (nibble !== 15) return nibble;
  let n = 15;
  let b: number;
  do {
    if (c.at >= c.block.length) return -1;
    b = c.block[c.at++]!;
    n += b;
  } while (b === 255);
  return n;
}

/**
 * One LZ4 block that decompresses to `head` followed by what `block` (a bare LZ4 block) decompresses to, without
 * compressing anything: `head` becomes literals in front of the block's first sequence. Every match offset is
 * relative to the output position and points inside the block's own output, so the rest of the block is copied
 * unchanged; its end (where the format's end-of-block rules apply) does not move. `block` must be a valid LZ4
 * block (`lz4BlockSound`).
 */
export function lz4Prepend(head: Uint8Array, block: Uint8Array): Uint8Array {
  const c: Lz4Cursor = { block, at: 0 };
  let literals = 0;
  let token = 0;
  if (block.length > 0) {
    token = block[c.at++]!;
    literals = lz4Length(c, token >>> 4);
    if (literals < 0) throw new Error('lz4Prepend: truncated literal length');
  }
  const total = head.length + literals;
  const extra = total >= 15 ? Math.floor((total - 15) / 255) + 1 : 0;
  const out = new Uint8Array(1 + extra + head.length + (block.length - c.at));
  out[0] = (Math.min(total, 15) << 4) | (token & 15);
  let o = 1;
  if (total >= 15) {
    let n = total - 15;
    for (; n >= 255; n -= 255) out[o++] = 255;
    out[o++] = n;
  }
  out.set(head, o);
  out.set(block.subarray(c.at), o + head.length);
  return out;
}

/**
 * Whether `block`, a bare LZ4 block, is one any conforming decoder turns into exactly `size` bytes, so it can go
 * into a Parquet page without being decompressed here: every literal run and match offset lies inside the block,
 * every match copies from output already produced (offset 1 to the bytes so far), the output is `size` bytes
 * exactly, and the format's end-of-block rules hold (the last five bytes are literals, the last match starts at
 * least twelve bytes before the end; a block under 13 bytes is all literals). LZ4's reference decoder, which
 * DuckDB uses, may refuse a block that breaks the end rules even where a lenient one (lz4_flex) accepts it.
 * One step per sequence, nothing written.
 */
export function lz4BlockSound(block: Uint8Array, size: number): boolean {
  const c: Lz4Cursor = { block, at: 0 };
  const end = block.length;
  let op = 0;
  let lastMatchStart = -1;
  let lastMatchEnd = 0;
  while (c.at < end) {
    const token = block[c.at++]!;
    const literals = lz4Length(c, token >>> 4);
    if (literals < 0 || literals > end - c.at) return false;
    c.at += literals;
    op += literals;
    if (c.at === end) break; // the last sequence: literals only
    if (c.at + 2 > end) return false;
    const offset = block[c.at]! | (block[c.at + 1]! << 8);
    c.at += 2;
    if (offset === 0 || offset > op) return false;
    const match = lz4Length(c, token & 15);
    if (match < 0) return false;
    lastMatchStart = op;
    op += match + 4;
    lastMatchEnd = op;
    if (op > size) return false;
  }
  if (op !== size) return false;
  if (lastMatchStart < 0) return true;
  return size >= 13 && lastMatchStart <= size - 12 && lastMatchEnd <= size - 5;
}

/**
 * DELTA_BINARY_PACKED of the lengths of strings [from, from + count), given by their cumulative `offsets`
 * (string i is offsets[i+1] - offsets[i] bytes): blocks of 128 values in 4 miniblocks of 32, each miniblock
 * bit-packed at its own width (widths above 24 written as 32). The strings themselves then follow as one
 * copied range (DELTA_LENGTH_BYTE_ARRAY).
 */
export function deltaLengths(out: ByteSink, offsets: Int32Array, from: number, count: number): void {
  out.varint(128);
  out.varint(4);
  out.varint(count);
  out.varint(zig(count ? offsets[from + 1]! - offsets[from]! : 0));
  // doubles, like the time deltas: deltaBlock sees one array type
  const deltas = new Float64Array(128);
  for (let b = 1; b < count; b += 128) {
    const n = Math.min(128, count - b);
    let min = 2147483647;
    for (let k = 0; k < n; k++) {
      // the difference of two consecutive lengths, straight from three consecutive offsets
      const i = from + b + k;
      const d = (offsets[i + 1]! - 2 * offsets[i]! + offsets[i - 1]!) | 0;
      deltas[k] = d;
      if (d < min) min = d;
    }
    deltaBlock(out, deltas, 0, n, min);
  }
}

const TWO32 = 4294967296;
/** deltas beyond this are not exact in a double once the block minimum is subtracted: such pages stay PLAIN */
const MAX_DELTA = 2 ** 51;

let deltaScratch = new Float64Array(0);

/**
 * DELTA_BINARY_PACKED of int64 values given as (lo, hi) pairs `pairs[2·from ..)`, `count` of them — for
 * time columns, whose PLAIN form (8 bytes a row) was most of what LZ4 had to chew through. Deltas are
 * computed in doubles, exact while each fits ±2^51 and each block's spread fits 32 bits; otherwise this
 * returns false and writes nothing, and the caller keeps PLAIN.
 */
export function deltaInt64(out: ByteSink, pairs: Int32Array, from: number, count: number): boolean {
  const nd = Math.max(0, count - 1);
  // one scratch for every page: a page's deltas were 8 bytes a row allocated and dropped again
  if (deltaScratch.length < nd) deltaScratch = new Float64Array(Math.max(nd, 2 * deltaScratch.length));
  const deltas = deltaScratch;
  const mins = new Float64Array(Math.ceil(nd / 128));
  let prevLo = count > 0 ? pairs[2 * from]! >>> 0 : 0;
  let prevHi = count > 0 ? pairs[2 * from + 1]! : 0;
  // block by block (128 deltas each): the min and max of a block are kept as it is read
  for (let start = 0; start < nd; start += 128) {
    const stop = Math.min(nd, start + 128);
    let min = Infinity;
    let max = -Infinity;
    for (let k = start; k < stop; k++) {
      const a = 2 * (from + k + 1);
      const lo = pairs[a]! >>> 0;
      const hi = pairs[a + 1]!;
      const dh = hi - prevHi;
      if (dh > 1 << 19 || dh < -(1 << 19)) return false;
      const d = dh * TWO32 + (lo - prevLo);
      prevLo = lo;
      prevHi = hi;
      if (d > MAX_DELTA || d < -MAX_DELTA) return false;
      deltas[k] = d;
      if (d < min) min = d;
      if (d > max) max = d;
    }
    if (max - min >= TWO32) return false;
    mins[start >> 7] = min;
  }
  out.varint(128);
  out.varint(4);
  out.varint(count);
  let first = 0n;
  if (count > 0) first = (BigInt(pairs[2 * from + 1]!) << 32n) | BigInt(pairs[2 * from]! >>> 0);
  let z = BigInt.asUintN(64, (first << 1n) ^ (first >> 63n));
  out.reserve(10);
  while (z >= 0x80n) {
    out.buf[out.length++] = Number(z & 0x7fn) | 0x80;
    z >>= 7n;
  }
  out.buf[out.length++] = Number(z);
  for (let b = 0; b < nd; b += 128) deltaBlock(out, deltas, b, Math.min(128, nd - b), mins[b >> 7]!);
  return true;
}

let blockOffsets = new Uint32Array(128);

/**
 * One DELTA_BINARY_PACKED block: the `n` (≤ 128) deltas `deltas[start ..)` as their minimum (zigzag varint), the
 * widths of the 4 miniblocks of 32, then each miniblock bit-packed at its width (widths above 24 written as 32)
 * by `packBits`, which packs the same way (LSB first, zero padded). Every delta minus `min` must fit 32 bits.
 */
function deltaBlock(out: ByteSink, deltas: Float64Array, start: number, n: number, min: number): void {
  out.varint(zig(min));
  // the offsets from the minimum, once, as the 32-bit values the bit-packer takes (exact: integers below 2^32)
  const offsets = blockOffsets;
  for (let k = 0; k < n; k++) offsets[k] = deltas[start + k]! - min;
  const minis = Math.ceil(n / 32);
  const widthsAt = out.length;
  out.reserve(4);
  out.length += 4;
  for (let m = 0; m < 4; m++) {
    // OR of the offsets: the same bit width as their maximum
    let bits = 0;
    for (let k = m * 32; k < Math.min(n, m * 32 + 32); k++) bits |= offsets[k]!;
    out.buf[widthsAt + m] = m < minis ? bitWidth(bits >>> 0) : 0;
  }
  for (let m = 0; m < minis; m++) {
    const w = out.buf[widthsAt + m]!;
    if (w > 0) packBits(out, offsets, m * 32, 32, n, w);
  }
}
