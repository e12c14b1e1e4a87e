/**
 * Span rows as typed columns (ids and times as 32-bit word pairs, call sites as indices), the form the segment
 * replay produces: no bigint or string per row, millions of rows a second. A `SpanTable` is also a `RowBatch`
 * (its `values` are built on first access, for readers that want rows) and writes itself to Parquet through an
 * uncompressed staging file DuckDB turns into the partition (`writeSpanParquet`), about 20x faster than
 * appending values one by one.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { ColumnSpec, RowBatch } from './row-batch.js';
import type { CallSite } from './span-hash.js';
import { writeStagingParquet, type StagingColumn } from './staging-parquet.js';
import { sqlString, withConnection } from './duckdb-engine.js';
import { PARQUET_OPTIONS, writeParquet } from './parquet-writer.js';
import { THREAD_SPANS_COLUMNS } from './thread-spans.js';

export const PROCESS_SPANS_COLUMNS: readonly ColumnSpec[] = [
  ...THREAD_SPANS_COLUMNS,
  { name: 'stream_id', type: 'VARCHAR' },
  { name: 'thread_name', type: 'VARCHAR' },
  { name: 'kind', type: 'VARCHAR' },
];

const TWO32 = 4294967296;

/** Per-row text columns of process_spans, as dictionaries and one index per row. */
export interface SpanTags {
  dictionary: string[];
  stream: Int32Array;
  thread: Int32Array;
  kind: Int32Array;
}

export interface SpanTable extends RowBatch {
  /** times are ns relative to this */
  origin: bigint;
  sites: readonly CallSite[];
  idHi: Int32Array;
  idLo: Int32Array;
  parentHi: Int32Array;
  parentLo: Int32Array;
  depth: Int32Array;
  begin: Float64Array;
  end: Float64Array;
  site: Int32Array;
  tags?: SpanTags;
}

export class SpanTableBuilder {
  private n = 0;
  private cols = { idHi: new Int32Array(256), idLo: new Int32Array(256), parentHi: new Int32Array(256), parentLo: new Int32Array(256), depth: new Int32Array(256), site: new Int32Array(256), begin: new Float64Array(256), end: new Float64Array(256) };

  constructor(
    private readonly origin: bigint,
    private readonly sites: readonly CallSite[],
  ) {}

  push(idHi: number, idLo: number, parentHi: number, parentLo: number, depth: number, begin: number, end: number, site: number): void {
    const c = this.cols;
    if (this.n === c.idHi.length) {
      for (const k of Object.keys(c) as (keyof typeof c)[]) {
        const a = c[k];
        const b = new (a.constructor as new (n: number) => typeof a)(a.length * 2);
        b.set(a as never);
        (c as Record<string, unknown>)[k] = b;
      }
    }
    const i = this.n++;
    c.idHi[i] = idHi;
    c.idLo[i] = idLo;
    c.parentHi[i] = parentHi;
    c.parentLo[i] = parentLo;
    c.depth[i] = depth;
    c.begin[i] = begin;
    c.end[i] = end;
    c.site[i] = site;
  }

  finish(): SpanTable {
    const n = this.n;
    const c = this.cols;
    return spanTable(this.origin, this.sites, {
      idHi: c.idHi.subarray(0, n), idLo: c.idLo.subarray(0, n), parentHi: c.parentHi.subarray(0, n), parentLo: c.parentLo.subarray(0, n),
      depth: c.depth.subarray(0, n), begin: c.begin.subarray(0, n), end: c.end.subarray(0, n), site: c.site.subarray(0, n),
    });
  }
}

type Columns = Pick<SpanTable, 'idHi' | 'idLo' | 'parentHi' | 'parentLo' | 'depth' | 'begin' | 'end' | 'site'>;

export function spanTable(origin: bigint, sites: readonly CallSite[], cols: Columns, tags?: SpanTags): SpanTable {
  let values: unknown[][] | undefined;
  return {
    ...cols,
    origin,
    sites,
    tags,
    columns: tags ? PROCESS_SPANS_COLUMNS : THREAD_SPANS_COLUMNS,
    length: cols.idHi.length,
    get values() {
      values ??= rowsOf(this as SpanTable);
      return values;
    },
  };
}

export function isSpanTable(batch: RowBatch): batch is SpanTable {
  return (batch as Partial<SpanTable>).idHi instanceof Int32Array;
}

const word = (hi: number, lo: number) => (BigInt(hi) << 32n) | BigInt(lo >>> 0);

/** The table as rows of values (row-batch.ts conventions). */
function rowsOf(t: SpanTable): unknown[][] {
  const cols: unknown[][] = t.columns.map(() => []);
  for (let i = 0; i < t.length; i++) {
    const s = t.sites[t.site[i]!]!;
    const b = t.origin + BigInt(t.begin[i]!);
    const e = t.origin + BigInt(t.end[i]!);
    const row: unknown[] = [word(t.idHi[i]!, t.idLo[i]!), word(t.parentHi[i]!, t.parentLo[i]!), t.depth[i]!, s.hash, b, e, e - b, s.name, s.target, s.filename, s.line];
    if (t.tags) row.push(t.tags.dictionary[t.tags.stream[i]!], t.tags.dictionary[t.tags.thread[i]!], t.tags.dictionary[t.tags.kind[i]!]);
    row.forEach((v, c) => cols[c]!.push(v));
  }
  return cols;
}

/** Several tables (same origin) as one, in order; each table's sites are re-indexed into one list. */
export function concatSpanTables(origin: bigint, parts: readonly SpanTable[]): SpanTable {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out: Columns = {
    idHi: new Int32Array(n), idLo: new Int32Array(n), parentHi: new Int32Array(n), parentLo: new Int32Array(n),
    depth: new Int32Array(n), begin: new Float64Array(n), end: new Float64Array(n), site: new Int32Array(n),
  };
  const sites: CallSite[] = [];
  const dictionary: string[] = [];
  const dictIndex = new Map<string, number>();
  const tag = (s: string) => {
    let i = dictIndex.get(s);
    if (i === undefined) dictIndex.set(s, (i = dictionary.push(s) - 1));
    return i;
  };
  const tags: SpanTags = { dictionary, stream: new Int32Array(n), thread: new Int32Array(n), kind: new Int32Array(n) };
  let at = 0;
  for (const p of parts) {
    if (p.origin !== origin) throw new Error('concatSpanTables: tables of different origins');
    const siteBase = sites.length;
    sites.push(...p.sites);
    out.idHi.set(p.idHi, at);
    out.idLo.set(p.idLo, at);
    out.parentHi.set(p.parentHi, at);
    out.parentLo.set(p.parentLo, at);
    out.depth.set(p.depth, at);
    out.begin.set(p.begin, at);
    out.end.set(p.end, at);
    for (let i = 0; i < p.length; i++) out.site[at + i] = p.site[i]! + siteBase;
    if (p.tags) {
      const remap = p.tags.dictionary.map(tag);
      for (let i = 0; i < p.length; i++) {
        tags.stream[at + i] = remap[p.tags.stream[i]!]!;
        tags.thread[at + i] = remap[p.tags.thread[i]!]!;
        tags.kind[at + i] = remap[p.tags.kind[i]!]!;
      }
    }
    at += p.length;
  }
  return spanTable(origin, sites, out, tags);
}

/** The same table with constant process_spans tags on every row. */
export function tagSpanTable(t: SpanTable, streamId: string, threadName: string, kind: string): SpanTable {
  const n = t.length;
  return spanTable(t.origin, t.sites, t, { dictionary: [streamId, threadName, kind], stream: new Int32Array(n).fill(0), thread: new Int32Array(n).fill(1), kind: new Int32Array(n).fill(2) });
}

const utf8 = new TextEncoder();

/** int64 (lo, hi) pairs of origin + offset for each offset. */
function times(origin: bigint, offsets: Float64Array, minus?: Float64Array): Int32Array {
  const out = new Int32Array(offsets.length * 2);
  const oHi = Number(origin >> 32n);
  const oLo = Number(origin & 0xffffffffn);
  for (let i = 0; i < offsets.length; i++) {
    if (minus) {
      const d = offsets[i]! - minus[i]!;
      out[2 * i] = d % TWO32 | 0;
      out[2 * i + 1] = Math.floor(d / TWO32);
      continue;
    }
    const lo = oLo + offsets[i]!;
    const carry = Math.floor(lo / TWO32);
    out[2 * i] = (lo - carry * TWO32) | 0;
    out[2 * i + 1] = (oHi + carry) | 0;
  }
  return out;
}

function pairs(hi: Int32Array, lo: Int32Array): Int32Array {
  const out = new Int32Array(hi.length * 2);
  for (let i = 0; i < hi.length; i++) {
    out[2 * i] = lo[i]!;
    out[2 * i + 1] = hi[i]!;
  }
  return out;
}

/** Writes the table to a Parquet partition at `path` (rows in the table's order, which is begin order). */
export async function writeSpanParquet(t: SpanTable, path: string): Promise<void> {
  const n = t.length;
  if (n === 0) return writeParquet({ columns: t.columns, values: t.columns.map(() => []), length: 0 }, path);
  const hashWords = new Int32Array(t.sites.length * 2);
  t.sites.forEach((s, i) => {
    hashWords[2 * i] = Number(s.hash & 0xffffffffn) | 0;
    hashWords[2 * i + 1] = Number((s.hash >> 32n) & 0xffffffffn) | 0;
  });
  const hash = new Int32Array(n * 2);
  const line = new Int32Array(n);
  const siteIdx = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const s = t.site[i]!;
    hash[2 * i] = hashWords[2 * s]!;
    hash[2 * i + 1] = hashWords[2 * s + 1]!;
    line[i] = t.sites[s]!.line;
    siteIdx[i] = s;
  }
  const dict = (pick: (s: CallSite) => string) => t.sites.map((s) => utf8.encode(pick(s)));
  const columns: StagingColumn[] = [
    { name: 'id', kind: 'int64', values: pairs(t.idHi, t.idLo) },
    { name: 'parent', kind: 'int64', values: pairs(t.parentHi, t.parentLo) },
    { name: 'depth', kind: 'int32', values: t.depth },
    { name: 'hash', kind: 'int64', values: hash },
    { name: 'begin', kind: 'int64', values: times(t.origin, t.begin) },
    { name: 'end', kind: 'int64', values: times(t.origin, t.end) },
    { name: 'duration', kind: 'int64', values: times(0n, t.end, t.begin) },
    { name: 'name', kind: 'dict-text', dictionary: dict((s) => s.name), indices: { perRow: siteIdx } },
    { name: 'target', kind: 'dict-text', dictionary: dict((s) => s.target), indices: { perRow: siteIdx } },
    { name: 'filename', kind: 'dict-text', dictionary: dict((s) => s.filename), indices: { perRow: siteIdx } },
    { name: 'line', kind: 'int32', values: line },
  ];
  if (t.tags) {
    const d = t.tags.dictionary.map((s) => utf8.encode(s));
    columns.push(
      { name: 'stream_id', kind: 'dict-text', dictionary: d, indices: { perRow: new Uint32Array(t.tags.stream) } },
      { name: 'thread_name', kind: 'dict-text', dictionary: d, indices: { perRow: new Uint32Array(t.tags.thread) } },
      { name: 'kind', kind: 'dict-text', dictionary: d, indices: { perRow: new Uint32Array(t.tags.kind) } },
    );
  }
  const scratch = `${path}.staging-${randomBytes(6).toString('hex')}.parquet`;
  try {
    await writeStagingParquet(scratch, n, columns);
    const extra = t.tags ? ', stream_id, thread_name, kind' : '';
    await withConnection((c) =>
      c.run(
        `COPY (SELECT id, parent, depth::UINTEGER AS depth,
                 (CASE WHEN hash < 0 THEN hash::HUGEINT + 18446744073709551616 ELSE hash::HUGEINT END)::UBIGINT AS hash,
                 make_timestamp_ns("begin") AS "begin", make_timestamp_ns("end") AS "end", duration, name, target, filename,
                 line::UINTEGER AS line${extra}
               FROM read_parquet(${sqlString(scratch)})) TO ${sqlString(path)} (${PARQUET_OPTIONS})`,
      ),
    );
  } finally {
    await rm(scratch, { force: true });
  }
}
