import { compressSync, uncompressSync } from 'lz4-napi';
import type { Codec } from '../../src/index.js';
import { TransitError } from '../../src/index.js';

/**
 * The LZ4 codec as the server and Node tracing build it on lz4-napi (test-only here: transit has no
 * dependencies). lz4-napi's block format starts with the uncompressed size as 4 little-endian bytes; it is
 * checked against the envelope before lz4-napi allocates anything.
 */
export const lz4Codec: Codec = {
  id: 1,
  compress(data: Uint8Array): Uint8Array {
    const out = compressSync(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  },
  decompress(data: Uint8Array, uncompressedSize: number): Uint8Array {
    if (data.length < 4) throw new TransitError('truncated', 'LZ4 block shorter than its size prefix');
    const prefix = new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true);
    if (prefix !== uncompressedSize) throw new TransitError('corrupt', 'LZ4 size prefix does not match the envelope');
    const out = uncompressSync(data);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  },
};
