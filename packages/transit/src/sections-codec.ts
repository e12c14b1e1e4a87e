/**
 * Codec 2 (docs/transit.md §7): LZ4 like codec 1, but the payload's data section is compressed apart from the
 * bytes before it. In a block of logs the data section is the messages back to back (version 2), so its LZ4
 * block is exactly what a Parquet page of those messages holds: the lakehouse splices it into its pages
 * instead of compressing every message again, which was a quarter of its time per log event. The client pays
 * nothing extra: two LZ4 calls over the same bytes instead of one.
 *
 *   compressed := u32 LE head_size_compressed, codec-1 body of payload[0, split), codec-1 body of payload[split, end)
 *
 * where `split` is where the data section starts and a codec-1 body is a u32 LE uncompressed size, then one
 * LZ4 block. A reader needs none of this meaning to decompress; `packedDataSection` hands the second block to
 * readers that want it, and they check `split` against the payload's own layout before trusting it.
 *
 * @example
 *   const codec = lz4SectionsCodec(lz4Codec);
 *   const body = encodeBlock(meta, encoder.finish(), codec);
 */
import { ByteReader } from './byte-reader.js';
import type { BlockHeader } from './envelope.js';
import { TransitError, type Codec } from './model.js';
import { TAG_COUNT } from './payload-layout.js';

const SECTIONS_CODEC_ID = 2;

/** Where the payload's data section starts: after the counts, tables, ticks and ops (no string is decoded). */
export function dataSectionOffset(payload: Uint8Array): number {
  const r = new ByteReader(payload);
  for (let i = 0; i < TAG_COUNT; i++) r.varuint32();
  const strings = r.varuint32();
  for (let i = 0; i < strings; i++) r.advance(r.varuint32());
  const metrics = r.varuint32();
  for (let i = 0; i < metrics * 3; i++) r.varuint32();
  const spans = r.varuint32();
  for (let i = 0; i < spans * 4; i++) r.varuint32();
  r.advance(r.varuint32()); // ticks
  r.advance(r.varuint32()); // ops
  return r.pos;
}

function u32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16)) + bytes[at + 3]! * 0x1000000;
}

/** The two codec-1 bodies of a codec-2 payload, with the sizes they declare; checked against each other, not decompressed. */
function parts(data: Uint8Array, uncompressedSize: number): { head: Uint8Array; headSize: number; rest: Uint8Array; restSize: number } {
  if (data.length < 12) throw new TransitError('corrupt', 'codec 2: shorter than its three size fields');
  const headLength = u32(data, 0);
  if (headLength < 4 || headLength > data.length - 8) throw new TransitError('corrupt', `codec 2: first part of ${headLength} bytes does not fit in ${data.length}`);
  const head = data.subarray(4, 4 + headLength);
  const rest = data.subarray(4 + headLength);
  const headSize = u32(head, 0);
  const restSize = u32(rest, 0);
  if (headSize + restSize !== uncompressedSize) {
    throw new TransitError('corrupt', `codec 2: parts of ${headSize} + ${restSize} bytes, the envelope says ${uncompressedSize}`);
  }
  return { head, headSize, rest, restSize };
}

/** Codec 2 over a codec-1 (LZ4 block with size prefix) implementation. */
export function lz4SectionsCodec(lz4: Codec): Codec {
  if (lz4.id !== 1) throw new RangeError(`lz4SectionsCodec wraps an LZ4 codec (id 1), not codec ${lz4.id}`);
  return {
    id: SECTIONS_CODEC_ID,
    compress(payload: Uint8Array): Uint8Array {
      const split = dataSectionOffset(payload);
      const head = lz4.compress(payload.subarray(0, split));
      const rest = lz4.compress(payload.subarray(split));
      const out = new Uint8Array(4 + head.length + rest.length);
      new DataView(out.buffer).setUint32(0, head.length, true);
      out.set(head, 4);
      out.set(rest, 4 + head.length);
      return out;
    },
    decompress(data: Uint8Array, uncompressedSize: number): Uint8Array {
      const { head, headSize, rest, restSize } = parts(data, uncompressedSize);
      return joinSections(lz4.decompress(head, headSize), lz4.decompress(rest, restSize), restSize);
    },
  };
}

/**
 * A codec-2 payload put back together from its two decompressed parts; `dataSize` is what the data section
 * must measure (a part of another size is a TransitError, like any damaged block).
 */
export function joinSections(head: Uint8Array, data: Uint8Array, dataSize: number): Uint8Array {
  if (data.length !== dataSize) throw new TransitError('corrupt', `data section of ${data.length} bytes, ${dataSize} expected`);
  const payload = new Uint8Array(head.length + dataSize);
  payload.set(head);
  payload.set(data, head.length);
  return payload;
}

/** A codec-2 block taken apart, nothing decompressed (see `packedDataSection`). */
export interface PackedDataSection {
  /** where the data section starts in the payload: the size of the part before it */
  offset: number;
  /** the data section's size */
  size: number;
  /** codec-1 body (size prefix, LZ4 block) of the payload before the data section */
  head: Uint8Array;
  /** codec-1 body of the data section */
  body: Uint8Array;
  /** the data section's bare LZ4 block: `body` without its size prefix */
  lz4: Uint8Array;
}

/**
 * For a codec-2 block: its two parts, their sizes checked against each other and the envelope, still
 * compressed. Null for other codecs. A reader can decompress the part before the data section alone and leave
 * the data section compressed until (unless) its bytes are needed; it must compare `offset` with the payload's
 * own layout before trusting where the section starts.
 */
export function packedDataSection(header: BlockHeader): PackedDataSection | null {
  if (header.codecId !== SECTIONS_CODEC_ID) return null;
  const { head, headSize, rest, restSize } = parts(header.compressed, header.uncompressedSize);
  return { offset: headSize, size: restSize, head, body: rest, lz4: rest.subarray(4) };
}
