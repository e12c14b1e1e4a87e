/**
 * A minimal Parquet writer for the ETL's staging files: uncompressed, one page per column chunk, no
 * statistics, flat schema. It exists because the decoded blocks already hold what Parquet stores — numbers
 * in typed arrays, strings as dictionary indices, messages as one UTF-8 buffer — so the pages are written
 * from them with bulk copies, and DuckDB reads the result at tens of millions of rows per second. It feeds DuckDB
 * when DuckDB writes the final partition (`SIRIUS_PARQUET_WRITER=duckdb`, or shapes the direct writer does not
 * take); by default the partition is written from the same columns by `direct-parquet-writer.ts`.
 *
 * Encodings used: PLAIN for numbers and messages, RLE_DICTIONARY (byte-aligned bit widths, so index
 * arrays are copied, not bit-packed value by value) for interned strings and per-block constants, RLE
 * definition levels for nullable columns.
 *
 * @example
 *   await writeStagingParquet('/tmp/s.parquet', 2, [{ name: 'level', kind: 'int32', values: Int32Array.of(4, 3) }]);
 */
import { open } from 'node:fs/promises';
import { i32, i64, list, str, struct, thriftStruct, type ThriftValue } from './staging-thrift.js';
import { plainTextRange } from './direct-parquet-encoding.js';

/** Dictionary indices of a column: one per row, or runs (`ends` cumulative, exclusive; id -1 is null). */
export type StagingIndices = { perRow: Uint32Array } | { runEnds: Int32Array; runIds: Int32Array };

/**
 * A MAP(VARCHAR, VARCHAR) column's entries, for writers that store the map itself rather than its JSON:
 * row i holds entries [offsets[i], offsets[i+1]) (none for a null map: transit cannot send an empty map, so no
 * row needs one), keys and values as dictionary ids.
 * This staging writer ignores it.
 */
export interface MapEntries {
  offsets: Int32Array;
  keys: Uint32Array;
  values: Uint32Array;
  keyDictionary: readonly Uint8Array[];
  valueDictionary: readonly Uint8Array[];
}

export type StagingColumn =
  | { name: string; kind: 'int32'; values: Int32Array }
  /** int64 as little-endian (lo, hi) 32-bit pairs: two entries per row */
  | { name: string; kind: 'int64'; values: Int32Array }
  | { name: string; kind: 'double'; values: Float64Array }
  /** UTF-8 values: row i is data[offsets[i], offsets[i+1]); null where `present[i]` is 0 */
  | { name: string; kind: 'text'; data: Uint8Array; offsets: Int32Array; present?: Uint8Array; entries?: MapEntries; packed?: PackedBlocks }
  /** dictionary-encoded UTF-8; nullable only through runs with id -1 */
  | { name: string; kind: 'dict-text'; dictionary: readonly Uint8Array[]; indices: StagingIndices; nullable?: boolean }
  /** dictionary-encoded int64, the dictionary as (lo, hi) pairs */
  | { name: string; kind: 'dict-int64'; dictionary: Int32Array; indices: StagingIndices };

/**
 * A text column's rows cut where their source blocks end (`ends`, cumulative), with each block's values as the
 * LZ4 block the client already compressed them into (transit codec 2), or null where it did not. Only valid
 * for rows in staged order: a writer that reorders rows drops it.
 */
export interface PackedBlocks {
  ends: Int32Array;
  lz4: (Uint8Array | null)[];
}

export class StagingError extends Error {
  override name = 'StagingError';
}

/** Rows per row group: several groups let DuckDB read the file with all its threads. */
export const STAGING_ROW_GROUP = 65536;

const PLAIN = 0;
const RLE = 3;
const RLE_DICTIONARY = 8;
const TYPE = { int32: 1, int64: 2, double: 5, text: 6, 'dict-text': 6, 'dict-int64': 2 } as const;

export async function writeStagingParquet(path: string, rows: number, columns: readonly StagingColumn[], rowGroup = STAGING_ROW_GROUP): Promise<number> {
  const chunks = encodeStagingParquet(rows, columns, rowGroup);
  const f = await open(path, 'w');
  try {
    // writev takes at most IOV_MAX buffers per call
    for (let i = 0; i < chunks.length; i += 1024) await f.writev(chunks.slice(i, i + 1024));
  } finally {
    await f.close();
  }
  return chunks.reduce((a, c) => a + c.length, 0);
}

/** The file as a list of byte chunks, in order (no concatenation: pages are large). */
export function encodeStagingParquet(rows: number, columns: readonly StagingColumn[], rowGroup = STAGING_ROW_GROUP): Uint8Array[] {
  for (const c of columns) checkColumn(c, rows);
  const out: Uint8Array[] = [MAGIC];
  let offset = MAGIC.length;
  const groups: ThriftValue[] = [];
  for (let r0 = 0; r0 < rows || (rows === 0 && r0 === 0); r0 += rowGroup) {
    const r1 = Math.min(rows, r0 + rowGroup);
    const chunksMeta: ThriftValue[] = [];
    let groupBytes = 0;
    for (const c of columns) {
      const start = offset;
      let dictOffset: number | undefined;
      const pages: Uint8Array[] = [];
      if (c.kind === 'dict-text' || c.kind === 'dict-int64') {
        const dict = c.kind === 'dict-text' ? plainTexts(c.dictionary) : bytesOf(c.dictionary);
        const n = c.kind === 'dict-text' ? c.dictionary.length : c.dictionary.length / 2;
        dictOffset = offset;
        const header = pageHeader(2, dict.length, struct([[1, i32(n)], [2, i32(PLAIN)]]));
        pages.push(header, dict);
        offset += header.length + dict.length;
      }
      const dataOffset = offset;
      const body = dataPage(c, r0, r1);
      const header = pageHeader(0, bodyLength(body), struct([
        [1, i32(r1 - r0)],
        [2, i32(dictOffset === undefined ? PLAIN : RLE_DICTIONARY)],
        [3, i32(RLE)],
        [4, i32(RLE)],
      ]));
      pages.push(header, ...body);
      offset += header.length + bodyLength(body);
      out.push(...pages);
      const size = offset - start;
      groupBytes += size;
      chunksMeta.push(struct([
        [2, i64(start)],
        [3, struct([
          [1, i32(TYPE[c.kind])],
          [2, list('i32', (dictOffset === undefined ? [PLAIN, RLE] : [PLAIN, RLE, RLE_DICTIONARY]).map(i32))],
          [3, list('bin', [str(c.name)])],
          [4, i32(0)],
          [5, i64(r1 - r0)],
          [6, i64(size)],
          [7, i64(size)],
          [9, i64(dataOffset)],
          [11, dictOffset === undefined ? undefined : i64(dictOffset)],
        ])],
      ]));
    }
    groups.push(struct([[1, list('struct', chunksMeta)], [2, i64(groupBytes)], [3, i64(r1 - r0)]]));
    if (rows === 0) break;
  }
  const schema = [struct([[4, str('schema')], [5, i32(columns.length)]]), ...columns.map(schemaElement)];
  const footer = thriftStruct([[1, i32(1)], [2, list('struct', schema)], [3, i64(rows)], [4, list('struct', groups)], [6, str('sirius staging')]]);
  const tail = new Uint8Array(8);
  new DataView(tail.buffer).setUint32(0, footer.length, true);
  tail.set(MAGIC, 4);
  out.push(footer, tail);
  return out;
}

const MAGIC = new TextEncoder().encode('PAR1');

function checkColumn(c: StagingColumn, rows: number): void {
  const bad = (what: string) => new StagingError(`staging column "${c.name}": ${what}`);
  switch (c.kind) {
    case 'int32':
    case 'double':
      if (c.values.length !== rows) throw bad(`${c.values.length} values for ${rows} rows`);
      return;
    case 'int64':
      if (c.values.length !== 2 * rows) throw bad(`${c.values.length / 2} values for ${rows} rows`);
      return;
    case 'text':
      if (c.offsets.length !== rows + 1) throw bad(`${c.offsets.length} offsets for ${rows} rows`);
      if (c.present && c.present.length !== rows) throw bad(`${c.present.length} null flags for ${rows} rows`);
      if (c.offsets[rows]! > c.data.length) throw bad('offsets run past the data');
      return;
    default: {
      const n = c.kind === 'dict-text' ? c.dictionary.length : c.dictionary.length / 2;
      const ix = c.indices;
      if ('perRow' in ix) {
        if (ix.perRow.length !== rows) throw bad(`${ix.perRow.length} indices for ${rows} rows`);
      } else {
        if (ix.runEnds.length !== ix.runIds.length) throw bad('run ends and ids differ in length');
        if ((ix.runEnds.length ? ix.runEnds[ix.runEnds.length - 1]! : 0) !== rows) throw bad(`runs do not cover ${rows} rows`);
        for (const id of ix.runIds) if (id >= n || (id < 0 && !(c.kind === 'dict-text' && c.nullable))) throw bad(`run id ${id} out of range`);
      }
      if (n === 0 && rows > 0 && 'perRow' in ix) throw bad('empty dictionary');
    }
  }
}

function schemaElement(c: StagingColumn): ThriftValue {
  const optional = (c.kind === 'text' && c.present !== undefined) || (c.kind === 'dict-text' && c.nullable === true);
  const utf8 = c.kind === 'text' || c.kind === 'dict-text';
  return struct([[1, i32(TYPE[c.kind])], [3, i32(optional ? 1 : 0)], [4, str(c.name)], [6, utf8 ? i32(0) : undefined]]);
}

function pageHeader(type: number, size: number, sub: ThriftValue): Uint8Array {
  return thriftStruct([[1, i32(type)], [2, i32(size)], [3, i32(size)], [type === 2 ? 7 : 5, sub]]);
}

function bodyLength(body: Uint8Array[]): number {
  let n = 0;
  for (const b of body) n += b.length;
  return n;
}

function bytesOf(a: Int32Array | Float64Array | Uint8Array | Uint16Array | Uint32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** PLAIN BYTE_ARRAY: each value as a 4-byte little-endian length and its bytes. */
function plainTexts(values: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const v of values) n += 4 + v.length;
  const out = new Uint8Array(n);
  let p = 0;
  for (const v of values) {
    const len = v.length;
    out[p] = len;
    out[p + 1] = len >>> 8;
    out[p + 2] = len >>> 16;
    out[p + 3] = len >>> 24;
    out.set(v, p + 4);
    p += 4 + len;
  }
  return out;
}

function dataPage(c: StagingColumn, r0: number, r1: number): Uint8Array[] {
  switch (c.kind) {
    case 'int32':
    case 'double':
      return [bytesOf(c.values.subarray(r0, r1))];
    case 'int64':
      return [bytesOf(c.values.subarray(2 * r0, 2 * r1))];
    case 'text':
      return textPage(c.data, c.offsets, c.present, r0, r1);
    default: {
      const n = c.kind === 'dict-text' ? c.dictionary.length : c.dictionary.length / 2;
      const width = n <= 0x100 ? 8 : n <= 0x10000 ? 16 : 32;
      const ix = c.indices;
      if ('perRow' in ix) return [Uint8Array.of(width), ...bitPacked(ix.perRow.subarray(r0, r1), width)];
      return runPages(ix.runEnds, ix.runIds, r0, r1, width, c.kind === 'dict-text' && c.nullable === true);
    }
  }
}

function textPage(data: Uint8Array, offsets: Int32Array, present: Uint8Array | undefined, r0: number, r1: number): Uint8Array[] {
  const out = plainTextRange(data, offsets, present, r0, r1);
  if (!present) return [out];
  return [definitionLevels((i) => present[i] !== 0, r0, r1), out];
}

/** RLE definition levels (bit width 1) with their 4-byte length prefix, from a per-row presence test. */
function definitionLevels(isPresent: (i: number) => boolean, r0: number, r1: number): Uint8Array {
  const runs: number[] = [];
  let i = r0;
  while (i < r1) {
    const v = isPresent(i);
    let j = i + 1;
    while (j < r1 && isPresent(j) === v) j++;
    runs.push(j - i, v ? 1 : 0);
    i = j;
  }
  return levelRuns(runs);
}

/** `runs` as (length, level) pairs → length-prefixed RLE hybrid of bit width 1. */
function levelRuns(runs: number[]): Uint8Array {
  const bytes: number[] = [0, 0, 0, 0];
  for (let k = 0; k < runs.length; k += 2) {
    pushVarint(bytes, runs[k]! * 2);
    bytes.push(runs[k + 1]!);
  }
  const out = Uint8Array.from(bytes);
  new DataView(out.buffer).setUint32(0, out.length - 4, true);
  return out;
}

function pushVarint(out: number[], n: number): void {
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
}

/** One bit-packed run of byte-aligned width: LSB-first packing of 8/16/32-bit values is their little-endian bytes. */
function bitPacked(ids: Uint32Array, width: 8 | 16 | 32): Uint8Array[] {
  const groups = Math.ceil(ids.length / 8);
  if (groups === 0) return [];
  const header: number[] = [];
  pushVarint(header, groups * 2 + 1);
  const padded = groups * 8;
  const packed = width === 8 ? new Uint8Array(padded) : width === 16 ? new Uint16Array(padded) : new Uint32Array(padded);
  packed.set(ids);
  return [Uint8Array.from(header), bytesOf(packed)];
}

/** Dictionary indices from runs, clipped to [r0, r1): definition levels (if nullable) and RLE index runs. */
function runPages(ends: Int32Array, ids: Int32Array, r0: number, r1: number, width: 8 | 16 | 32, nullable: boolean): Uint8Array[] {
  const levels: number[] = [];
  const index: number[] = [width];
  let start = 0;
  for (let k = 0; k < ends.length; k++) {
    const end = ends[k]!;
    const a = Math.max(start, r0);
    const b = Math.min(end, r1);
    start = end;
    if (a >= b) continue;
    const id = ids[k]!;
    if (nullable) {
      const level = id < 0 ? 0 : 1;
      const last = levels.length - 1;
      if (last > 0 && levels[last] === level) levels[last - 1]! += b - a;
      else levels.push(b - a, level);
    }
    if (id < 0) continue;
    pushVarint(index, (b - a) * 2);
    for (let s = 0; s < width; s += 8) index.push((id >>> s) & 0xff);
  }
  const body = Uint8Array.from(index);
  return nullable ? [levelRuns(levels), body] : [body];
}
