/** The part of lz4js (plain JavaScript LZ4) this package uses. */
declare module 'lz4js' {
  export function compressBound(n: number): number;
  /** LZ4 block of `src[sIndex, sIndex+sLength)` into `dst`; returns its length, or 0 when no match was found */
  export function compressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number;
  /** decodes an LZ4 block into `dst` from `dIndex`; returns the end index in `dst` */
  export function decompressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number;
}
