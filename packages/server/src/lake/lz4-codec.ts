/**
 * Transit codec 1 on Node, over the native `lz4-napi` (docs/transit.md §7): an LZ4 block preceded by the
 * uncompressed size as a 4-byte little-endian integer — exactly `compressSync`'s output. Before anything is
 * allocated, `decompress` checks that the prefix equals the envelope's size and that the size is one LZ4 can
 * produce from this many bytes (one input byte expands to at most 255 output bytes); afterwards, that exactly
 * that many bytes came out.
 *
 * @example
 *   const packed = lz4Codec.compress(bytes);
 *   const back = lz4Codec.decompress(packed, bytes.length);
 */
import { compressSync, uncompressSync } from 'lz4-napi';
import { lz4SectionsCodec, noCompression, TransitError, type Codec } from '@sirius/transit';

/** largest expansion of the LZ4 block format: output ≤ 255 × input (+ a little) */
const MAX_RATIO = 255;

export const lz4Codec: Codec = {
  id: 1,
  compress(data: Uint8Array): Uint8Array {
    return compressSync(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  },
  decompress(data: Uint8Array, uncompressedSize: number): Uint8Array {
    if (!Number.isSafeInteger(uncompressedSize) || uncompressedSize < 0 || uncompressedSize > 0xffffffff) {
      throw new TransitError('corrupt', `bad uncompressed size ${uncompressedSize}`);
    }
    if (data.byteLength < 4) throw new TransitError('truncated', 'LZ4 data shorter than its 4-byte size prefix');
    const prefix = new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true);
    if (prefix !== uncompressedSize) {
      throw new TransitError('corrupt', `LZ4 size prefix ${prefix} differs from the envelope's ${uncompressedSize}`);
    }
    if (uncompressedSize > (data.byteLength - 4) * MAX_RATIO + 16) {
      throw new TransitError('corrupt', `uncompressed size ${uncompressedSize} is impossible for ${data.byteLength - 4} LZ4 bytes`);
    }
    let out: Buffer;
    try {
      out = uncompressSync(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    } catch (err) {
      throw new TransitError('corrupt', `LZ4: ${(err as Error).message}`);
    }
    if (out.byteLength !== uncompressedSize) {
      throw new TransitError('corrupt', `LZ4 produced ${out.byteLength} bytes, the envelope says ${uncompressedSize}`);
    }
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  },
};

/** Every codec a stored block may use: none, LZ4 (1), LZ4 with the data section apart (2, what clients send). */
export const transitCodecs: readonly Codec[] = [noCompression, lz4Codec, lz4SectionsCodec(lz4Codec)];
