/**
 * Writes a final `log_entries` / `measures` partition straight from staged columns, without DuckDB: the
 * DuckDB COPY that used to turn the staging file into the partition was 85–90 % of the ETL's time, and
 * everything it did — cast ticks to TIMESTAMP_NS, JSON to MAP, add per-block constants, sort by time,
 * compress — is cheap to do on columns that are already typed arrays and dictionary ids.
 *
 * The file reads back through DuckDB with the same schema, values and row order as the COPY's output:
 * schema elements mirror DuckDB's (`direct-parquet-leaves.ts`), rows are put in stable time order
 * (`direct-parquet-order.ts`), row groups have DuckDB's 122 880 rows. Pages are LZ4_RAW (no zstd encoder
 * on Node 20 without another package), so files are larger than DuckDB's zstd ones; compaction rewrites
 * them with DuckDB anyway. Column chunks carry null counts and min/max for time and string columns.
 *
 * Messages the client already compressed (transit codec 2) are not compressed again: when rows stay in block
 * order, the message chunk gets a page per such block, its LZ4 block spliced behind the page's levels and
 * lengths, and row groups end where blocks end (at most 122 880 rows, unless one block is larger).
 *
 * Among rows with equal times the order is the staged order (a stable sort). DuckDB's `ORDER BY time`
 * promises nothing there and, in practice, does not always keep input order, so only ties may differ.
 * Files have no zone maps for MAP columns (DuckDB writes min/max of keys and values; nothing prunes on them).
 *
 * @example
 *   const plan = directPlan(batch.columns, staged);
 *   if (plan) await writeDirectParquet(path, staged, plan, { sortByTime: true });
 */
import { open, rm } from 'node:fs/promises';
import type { ColumnSpec } from './row-batch.js';
import type { StagedRows } from './staging-block-columns.js';
import { bin, i32, i64, list, str, struct, thriftStruct, type ThriftValue } from './staging-thrift.js';
import { ENCODING, leafPlan, type Leaf, type LeafPlan, type PageBody } from './direct-parquet-leaves.js';
import { LZ4_RAW, lz4Prepend, lz4Raw } from './direct-parquet-encoding.js';
import { firstAbove, reorder, timeOrder } from './direct-parquet-order.js';

/** DuckDB's ROW_GROUP_SIZE for partitions (`PARQUET_OPTIONS`). */
export const DIRECT_ROW_GROUP = 122880;

export class DirectParquetError extends Error {
  override name = 'DirectParquetError';
}

/** The columns' plans, or null if any view column has a type or staged shape this writer does not handle. */
export function directPlan(columns: readonly ColumnSpec[], staged: StagedRows): LeafPlan[] | null {
  if (columns.length !== staged.columns.length) return null;
  const plans: LeafPlan[] = [];
  for (let i = 0; i < columns.length; i++) {
    const c = staged.columns[i]!;
    const p = leafPlan(columns[i]!, c, staged.sortedBy === c.name);
    if (!p) return null;
    plans.push(p);
  }
  return plans;
}

export interface DirectOptions {
  /** put rows in ascending `time` order (stable), as `ORDER BY time` would */
  sortByTime?: boolean;
  rowGroup?: number;
}

const MAGIC = new TextEncoder().encode('PAR1');

/** Writes the partition; on failure nothing is left at `path`. Returns the file size. */
export async function writeDirectParquet(path: string, columns: readonly ColumnSpec[], staged: StagedRows, opts: DirectOptions = {}): Promise<number> {
  const chunks = encodeDirectParquet(columns, staged, opts);
  let ok = false;
  const f = await open(path, 'w');
  try {
    for (let i = 0; i < chunks.length; i += 1024) await f.writev(chunks.slice(i, i + 1024));
    ok = true;
  } finally {
    await f.close();
    if (!ok) await rm(path, { force: true });
  }
  return chunks.reduce((a, c) => a + c.length, 0);
}

function pageHeader(type: 0 | 2, raw: number, compressed: number, sub: ThriftValue): Uint8Array {
  return thriftStruct([[1, i32(type)], [2, i32(raw)], [3, i32(compressed)], [type === 2 ? 7 : 5, sub]]);
}

function statistics(nullCount: number | undefined, minMax: [Uint8Array, Uint8Array] | undefined): ThriftValue | undefined {
  if (nullCount === undefined && !minMax) return undefined;
  return struct([
    [1, minMax && bin(minMax[1])],
    [2, minMax && bin(minMax[0])],
    [3, nullCount === undefined ? undefined : i64(nullCount)],
    [5, minMax && bin(minMax[1])],
    [6, minMax && bin(minMax[0])],
  ]);
}

/** A data page's LZ4_RAW body: its parts compressed, or spliced in front of the LZ4 block it was given. */
function pageBody(body: PageBody): { data: Uint8Array; rawSize: number } {
  if (!body.packed) return lz4Raw(body.parts);
  const head = body.parts.length === 1 ? body.parts[0]! : concat(body.parts);
  return { data: lz4Prepend(head, body.packed.lz4), rawSize: head.length + body.packed.size };
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One column chunk: optional dictionary page, then one data page (or the leaf's split pages), all LZ4_RAW. */
function columnChunk(leaf: Leaf, r0: number, r1: number, offset: number, out: Uint8Array[]): { meta: ThriftValue; size: number; raw: number } {
  const page = leaf.page(r0, r1);
  const start = offset;
  let raw = 0;
  let dictOffset: number | undefined;
  if (page.dictionary) {
    const d = lz4Raw([page.dictionary.bytes]);
    const h = pageHeader(2, d.rawSize, d.data.length, struct([[1, i32(page.dictionary.count)], [2, i32(ENCODING.PLAIN)]]));
    dictOffset = offset;
    out.push(h, d.data);
    offset += h.length + d.data.length;
    raw += h.length + d.rawSize;
  }
  const stats = statistics(page.nullCount, page.minMax);
  const encoding = page.encoding ?? (page.dictionary ? ENCODING.RLE_DICTIONARY : ENCODING.PLAIN);
  const dataOffset = offset;
  // split pages carry no statistics of their own: the chunk's describe them together
  for (const p of page.split ?? [{ numValues: page.numValues, parts: page.parts }]) {
    const body = pageBody(p);
    const h = pageHeader(0, body.rawSize, body.data.length, struct([[1, i32(p.numValues)], [2, i32(encoding)], [3, i32(ENCODING.RLE)], [4, i32(ENCODING.RLE)], [5, page.split ? undefined : stats]]));
    out.push(h, body.data);
    offset += h.length + body.data.length;
    raw += h.length + body.rawSize;
  }
  const size = offset - start;
  const encodings = page.dictionary ? [ENCODING.PLAIN, ENCODING.RLE, ENCODING.RLE_DICTIONARY] : [...new Set([ENCODING.PLAIN, ENCODING.RLE, encoding])];
  const meta = struct([
    [2, i64(start)],
    [3, struct([
      [1, i32(leaf.physical)],
      [2, list('i32', encodings.map(i32))],
      [3, list('bin', leaf.path.map(str))],
      [4, i32(LZ4_RAW)],
      [5, i64(page.numValues)],
      [6, i64(raw)],
      [7, i64(size)],
      [9, i64(dataOffset)],
      [11, dictOffset === undefined ? undefined : i64(dictOffset)],
      [12, stats],
    ])],
  ]);
  return { meta, size, raw };
}

/**
 * Where the row group starting at `r0` ends: `rowGroup` rows on, or, when the rows come with cuts (source block
 * ends), the last cut within that many rows — else the first cut after, so no block is split across groups.
 */
function groupEnd(r0: number, rows: number, rowGroup: number, cuts: Int32Array | undefined): number {
  const limit = Math.min(rows, r0 + rowGroup);
  if (!cuts || limit === rows) return limit;
  const lo = firstAbove(cuts, limit);
  // cuts[lo - 1] is the last cut ≤ limit
  if (lo > 0 && cuts[lo - 1]! > r0) return cuts[lo - 1]!;
  return lo < cuts.length ? Math.min(rows, cuts[lo]!) : limit;
}

/** The file as byte chunks, in order. */
export function encodeDirectParquet(columns: readonly ColumnSpec[], staged: StagedRows, opts: DirectOptions = {}): Uint8Array[] {
  const names = staged.columns.map((c) => c.name).join(',');
  if (names !== columns.map((c) => c.name).join(',')) throw new DirectParquetError(`staged columns (${names}) do not match the view's`);
  let rowsIn = staged;
  if (opts.sortByTime && staged.sortedBy !== 'time') {
    const time = staged.columns.find((c) => c.name === 'time');
    if (!time || time.kind !== 'int64') throw new DirectParquetError('cannot sort by time: no int64 time column');
    const perm = timeOrder(time.values);
    if (perm) rowsIn = reorder(staged, perm);
  }
  const plans = directPlan(columns, rowsIn);
  if (!plans) throw new DirectParquetError(`column types (${columns.map((c) => c.type).join(', ')}) are not supported by the direct writer`);
  const leaves = plans.flatMap((p) => p.leaves);
  const rows = rowsIn.length;
  const rowGroup = opts.rowGroup ?? DIRECT_ROW_GROUP;
  const out: Uint8Array[] = [MAGIC];
  let offset = MAGIC.length;
  const groups: ThriftValue[] = [];
  for (let r0 = 0, r1 = 0; r0 < rows; r0 = r1) {
    r1 = groupEnd(r0, rows, rowGroup, rowsIn.cuts);
    const groupStart = offset;
    const chunks: ThriftValue[] = [];
    let raw = 0;
    for (const leaf of leaves) {
      const c = columnChunk(leaf, r0, r1, offset, out);
      offset += c.size;
      raw += c.raw;
      chunks.push(c.meta);
    }
    groups.push(struct([[1, list('struct', chunks)], [2, i64(raw)], [3, i64(r1 - r0)], [5, i64(groupStart)], [6, i64(offset - groupStart)]]));
  }
  const schema = [struct([[3, i32(0)], [4, str('duckdb_schema')], [5, i32(columns.length)]]), ...plans.flatMap((p) => p.schema)];
  const columnOrders = leaves.map(() => struct([[1, struct([])]]));
  const footer = thriftStruct([
    [1, i32(1)],
    [2, list('struct', schema)],
    [3, i64(rows)],
    [4, list('struct', groups)],
    [6, str('sirius direct parquet writer')],
    [7, list('struct', columnOrders)],
  ]);
  const tail = new Uint8Array(8);
  new DataView(tail.buffer).setUint32(0, footer.length, true);
  tail.set(MAGIC, 4);
  out.push(footer, tail);
  return out;
}
