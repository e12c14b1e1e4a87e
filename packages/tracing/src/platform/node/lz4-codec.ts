/**
 * Transit codec 1 on Node: LZ4 block format with a 4-byte little-endian uncompressed-size prefix, which is
 * what lz4-napi's `compressSync`/`uncompressSync` read and write.
 */
import { compressSync, uncompressSync } from 'lz4-napi';
import { TransitError, type Codec } from '@sirius/transit';

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export const lz4Codec: Codec = {
  id: 1,
  compress(data: Uint8Array): Uint8Array {
    return compressSync(asBuffer(data));
  },
  decompress(data: Uint8Array, uncompressedSize: number): Uint8Array {
    if (data.length < 4) throw new TransitError('corrupt', 'lz4: missing size prefix');
    const declared = data[0]! | (data[1]! << 8) | (data[2]! << 16) | (data[3]! * 0x1000000);
    if (declared !== uncompressedSize) {
      throw new TransitError('corrupt', `lz4: size prefix ${declared} does not match ${uncompressedSize}`);
    }
    let out: Buffer;
    try {
      out = uncompressSync(asBuffer(data));
    } catch (e) {
      throw new TransitError('corrupt', `lz4: ${(e as Error).message}`);
    }
    if (out.length !== uncompressedSize) throw new TransitError('corrupt', `lz4: got ${out.length} bytes, expected ${uncompressedSize}`);
    return out;
  },
};
