/**
 * Transit codec 1 in browsers, over lz4js (plain JavaScript, ~2 kB gzipped): a 4-byte little-endian
 * uncompressed size, then one LZ4 block — what the server's lz4-napi reads. lz4js answers 0 for input in which
 * it found no match; LZ4 then stores it as one run of literals, written here.
 */
import * as lz4 from 'lz4js';
import { TransitError, type Codec } from '@sirius/transit';

/** lz4js needs a zeroed 64 Ki-entry table per block; one is kept and cleared rather than allocated each time */
const table = new Uint32Array(1 << 16);

function literalsOnly(src: Uint8Array, dst: Uint8Array, at: number): number {
  let n = src.length;
  if (n >= 15) {
    dst[at++] = 0xf0;
    for (n -= 15; n >= 255; n -= 255) dst[at++] = 255;
    dst[at++] = n;
  } else dst[at++] = n << 4;
  dst.set(src, at);
  return at + src.length;
}

export const lz4Codec: Codec = {
  id: 1,
  compress(data: Uint8Array): Uint8Array {
    const out = new Uint8Array(4 + lz4.compressBound(data.length) + 16);
    new DataView(out.buffer).setUint32(0, data.length, true);
    table.fill(0);
    const n = lz4.compressBlock(data, out.subarray(4), 0, data.length, table);
    const end = n > 0 ? 4 + n : literalsOnly(data, out, 4);
    return out.subarray(0, end);
  },
  decompress(data: Uint8Array, uncompressedSize: number): Uint8Array {
    if (data.length < 4) throw new TransitError('corrupt', 'lz4: missing size prefix');
    const declared = new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true);
    if (declared !== uncompressedSize) throw new TransitError('corrupt', `lz4: size prefix ${declared} does not match ${uncompressedSize}`);
    const out = new Uint8Array(uncompressedSize);
    const end = lz4.decompressBlock(data, out, 4, data.length - 4, 0);
    if (end !== uncompressedSize) throw new TransitError('corrupt', `lz4: got ${end} bytes, expected ${uncompressedSize}`);
    return out;
  },
};
