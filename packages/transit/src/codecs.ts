import { TransitError } from './model.js';
import type { Codec } from './model.js';

/**
 * Codec 0: the payload is stored as is. Useful in tests and for tiny blocks; real clients use LZ4 (id 1),
 * which each runtime supplies (lz4-napi on Node, a JS/wasm LZ4 in browsers).
 */
export const noCompression: Codec = {
  id: 0,
  compress(data: Uint8Array): Uint8Array {
    return data;
  },
  decompress(data: Uint8Array, uncompressedSize: number): Uint8Array {
    if (data.length !== uncompressedSize) {
      throw new TransitError('corrupt', `uncompressed payload is ${data.length} bytes, header says ${uncompressedSize}`);
    }
    return data;
  },
};
