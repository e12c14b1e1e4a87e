/**
 * The query engine: every query runs over a time range. It finds the views the SQL names, resolves each
 * through the lakehouse (Parquet partitions overlapping the range, plus just-in-time files) or the SQL
 * metadata store (processes, streams, blocks), defines them as views local to one DuckDB connection, runs
 * the SQL, and returns Arrow columns plus what it read.
 *
 * @example
 *   const engine = await createQueryEngine({ lake, lakehouse, cacheDir: '.sirius/cache' });
 *   const { table, stats } = await engine.query('SELECT level, count(*) AS n FROM log_entries GROUP BY level',
 *     { begin: Date.now() - 3600e3, end: Date.now() });
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { tmpdir } from 'node:os';
import { DuckDBInstance, StatementType, type DuckDBConnection } from '@duckdb/node-api';
import type { Table } from 'apache-arrow';
import { parseTimeArg, TimeArgError } from '@sirius/client';
import type { Lake } from '../lake/lake.js';
import type { Lakehouse, TimeRange, ViewSource } from '../lakehouse/lakehouse.js';
import { createObjectCache, type ObjectCache } from './object-cache.js';
import { scanSql, SqlScanError, type ScannedSql } from './sql-scan.js';
import { SQL_FUNCTIONS } from './sql-functions.js';
import { loadMetadataView, type MetadataView } from './metadata-views.js';
import { resultToArrow, ResultTooLargeError } from './arrow-from-duckdb.js';
import { locateError } from './error-position.js';
import { QueryError } from './query-error.js';
import { Semaphore, SemaphoreFullError } from './semaphore.js';

export interface QueryLimits {
  /** per-query time budget, ms (default 60 000) */
  timeoutMs?: number;
  /** DuckDB memory_limit for the engine (default '2GB') */
  memoryLimit?: string;
  /** DuckDB worker threads (default: DuckDB's choice, one per core) */
  threads?: number;
  /** queries running at once (default 2) */
  maxConcurrent?: number;
  /** queries waiting for a slot before new ones are refused (default 64) */
  maxQueued?: number;
  /** most rows a result may have (default 5 000 000) */
  maxRows?: number;
  /** bytes of S3 objects kept in the local cache (default 2 GiB) */
  cacheBytes?: number;
}

export interface QueryEngineOptions {
  lake: Lake;
  lakehouse: Lakehouse;
  /** where S3 objects are cached and DuckDB spills */
  cacheDir: string;
  limits?: QueryLimits;
  /**
   * Folders queries may read besides the cache and the file object store (the lakehouse's just-in-time
   * files). Queries cannot read any other file: `read_csv('/etc/passwd')` is refused.
   * Default: [os.tmpdir()].
   */
  readableDirs?: string[];
}

export type TimeInput = bigint | string | Date | number;

export interface QueryOptions {
  /** overrides the engine's time budget for this query, ms */
  timeoutMs?: number;
  /** cancels the query (e.g. the HTTP client went away) */
  signal?: AbortSignal;
}

export interface QueryStats {
  /** Parquet files read: object keys for partitions, local paths for just-in-time files */
  files: string[];
  filesRead: number;
  /** objects served from the local cache without a download */
  cacheHits: number;
  /** the views the query referenced, as `view` or `view(instance)` */
  views: string[];
  rows: number;
  elapsedMs: number;
  begin: string;
  end: string;
}

export interface QueryOutput {
  table: Table;
  /** DuckDB's SQL type of each column */
  sqlTypes: string[];
  stats: QueryStats;
}

export interface QueryEngine {
  query(sql: string, range: { begin: TimeInput; end: TimeInput }, opts?: QueryOptions): Promise<QueryOutput>;
  close(): Promise<void>;
}

const METADATA_VIEWS: readonly string[] = ['processes', 'streams', 'blocks'];

export function toNs(t: TimeInput, now = Date.now()): bigint {
  if (typeof t === 'number') return BigInt(Math.trunc(t)) * 1_000_000n; // ms since the epoch
  return parseTimeArg(t, now);
}

export async function createQueryEngine(opts: QueryEngineOptions): Promise<QueryEngine> {
  const limits = opts.limits ?? {};
  const timeoutMs = limits.timeoutMs ?? 60_000;
  const maxRows = limits.maxRows ?? 5_000_000;
  const cacheDir = resolvePath(opts.cacheDir);
  const spillDir = join(cacheDir, 'spill');
  const cache: ObjectCache = await createObjectCache({
    dir: join(cacheDir, 'objects'),
    maxBytes: limits.cacheBytes ?? 2 * 1024 ** 3,
    objects: opts.lake.objects,
  });
  await mkdir(spillDir, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:');
  const setup = await instance.connect();
  for (const stmt of SQL_FUNCTIONS) await setup.run(stmt);
  await setup.run(`SET memory_limit = '${(limits.memoryLimit ?? '2GB').replace(/'/g, '')}'`);
  if (limits.threads) await setup.run(`SET threads = ${Math.max(1, Math.trunc(limits.threads))}`);
  await setup.run(`SET temp_directory = ${sqlString(spillDir)}`);
  const readable = [cacheDir, ...(opts.readableDirs ?? [tmpdir()]).map((d) => resolvePath(d))];
  const storeRoot = opts.lake.objects.localPath('x');
  if (storeRoot !== undefined) readable.push(resolvePath(storeRoot.slice(0, -1)));
  await setup.run(`SET allowed_directories = [${readable.map(sqlString).join(', ')}]`);
  await setup.run(`SET enable_external_access = false`);
  await setup.run(`SET lock_configuration = true`);
  setup.closeSync();
  const slots = new Semaphore(limits.maxConcurrent ?? 2, limits.maxQueued ?? 64);
  let closed = false;

  async function run(sql: string, range: TimeRange, qopts: QueryOptions, budgetMs: number): Promise<QueryOutput> {
    const started = performance.now();
    let scanned: ScannedSql;
    try {
      scanned = scanSql(sql);
    } catch (err) {
      if (err instanceof SqlScanError) throw new QueryError('sql', err.message, err.offset + 1);
      throw err;
    }
    const sources: ViewSource[] = [];
    const leases: { release(): void }[] = [];
    const files: string[] = [];
    let cacheHits = 0;
    let conn: DuckDBConnection | undefined;
    let timedOut = false;
    let aborted = false;
    const timer = setTimeout(() => {
      timedOut = true;
      conn?.interrupt();
    }, budgetMs);
    const onAbort = () => {
      aborted = true;
      conn?.interrupt();
    };
    // an already-aborted signal never fires 'abort'
    if (qopts.signal?.aborted) aborted = true;
    else qopts.signal?.addEventListener('abort', onAbort, { once: true });
    const checkBudget = () => {
      if (timedOut) throw timeoutError(budgetMs);
      if (aborted) throw new QueryError('bad_request', 'the query was cancelled');
    };
    try {
      conn = await instance.connect();
      const views: string[] = [];
      // Lakehouse views first (they may materialize just-in-time partitions), in parallel.
      const lakeRefs: { name: string; view: string; instance: string }[] = [];
      for (const g of scanned.globals) if (!METADATA_VIEWS.includes(g)) lakeRefs.push({ name: g, view: g, instance: 'global' });
      for (const i of scanned.instances) lakeRefs.push({ name: i.alias, view: i.view, instance: i.instance });
      const resolved = await Promise.all(
        lakeRefs.map(async (r) => {
          try {
            const src = await opts.lakehouse.resolve(r.view, r.instance, range);
            sources.push(src);
            return { ...r, src };
          } catch (err) {
            throw new QueryError('bad_request', `cannot resolve view ${r.view}(${r.instance}): ${(err as Error).message}`, undefined, { cause: err });
          }
        }),
      );
      checkBudget();
      for (const r of resolved) {
        const remote: string[] = [];
        const paths: string[] = [];
        for (const key of r.src.objectKeys) {
          const local = opts.lake.objects.localPath(key);
          if (local !== undefined) paths.push(local);
          else remote.push(key);
        }
        if (remote.length > 0) {
          const lease = await cache.acquire(remote);
          leases.push(lease);
          cacheHits += lease.hits;
          paths.push(...lease.paths);
        }
        paths.push(...r.src.localFiles);
        files.push(...r.src.objectKeys, ...r.src.localFiles);
        views.push(r.instance === 'global' ? r.view : `${r.view}(${r.instance})`);
        await conn.run(parquetViewSql(r.name, paths, r.src, range));
      }
      for (const g of scanned.globals) {
        if (!METADATA_VIEWS.includes(g)) continue;
        await loadMetadataView(conn, opts.lake.sql, g as MetadataView, range);
        views.push(g);
      }
      checkBudget();
      const extracted = await conn.extractStatements(scanned.sql);
      if (extracted.count !== 1) {
        throw new QueryError('bad_request', extracted.count === 0 ? 'the query is empty' : `one statement per query (got ${extracted.count})`);
      }
      const prepared = await extracted.prepare(0);
      const kind = prepared.statementType;
      if (kind !== StatementType.SELECT && kind !== StatementType.EXPLAIN) {
        throw new QueryError('bad_request', `only SELECT queries are allowed (got a ${StatementType[kind] ?? kind} statement)`, 1);
      }
      checkBudget();
      const result = await prepared.stream();
      // an interrupt that landed before DuckDB started executing was a no-op: look at the flags again
      checkBudget();
      const { table, sqlTypes } = await resultToArrow(result, { maxRows, signal: checkBudget });
      checkBudget();
      return {
        table,
        sqlTypes,
        stats: {
          files,
          filesRead: files.length,
          cacheHits,
          views,
          rows: table.numRows,
          elapsedMs: Math.round((performance.now() - started) * 10) / 10,
          begin: range.begin.toString(),
          end: range.end.toString(),
        },
      };
    } catch (err) {
      if (err instanceof QueryError) throw err;
      if (timedOut) throw timeoutError(budgetMs);
      if (aborted) throw new QueryError('bad_request', 'the query was cancelled');
      if (err instanceof ResultTooLargeError) throw new QueryError('too_large', err.message);
      const located = locateError((err as Error)?.message ?? String(err), scanned.sql);
      let position = located.offset === undefined ? undefined : scanned.originalOffset(located.offset) + 1;
      if (position === undefined && /at end of input/.test(located.message)) position = sql.trimEnd().length + 1;
      throw new QueryError('sql', located.message, position, { cause: err });
    } finally {
      clearTimeout(timer);
      qopts.signal?.removeEventListener('abort', onAbort);
      conn?.closeSync();
      for (const l of leases) l.release();
      await Promise.all(sources.map((s) => s.release().catch(() => undefined)));
    }
  }

  return {
    async query(sql, rangeIn, qopts = {}) {
      if (closed) throw new QueryError('internal', 'the query engine is closed');
      if (typeof sql !== 'string' || sql.trim() === '') throw new QueryError('bad_request', 'the query is empty');
      let range: TimeRange;
      try {
        const now = Date.now();
        range = { begin: toNs(rangeIn.begin, now), end: toNs(rangeIn.end, now) };
      } catch (err) {
        if (err instanceof TimeArgError) throw new QueryError('bad_request', err.message);
        throw err;
      }
      if (range.begin >= range.end) {
        throw new QueryError('bad_request', `the time range is empty: begin (${range.begin} ns) must be before end (${range.end} ns)`);
      }
      const budgetMs = Math.max(1, qopts.timeoutMs ?? timeoutMs);
      let release: () => void;
      try {
        release = await slots.acquire();
      } catch (err) {
        if (err instanceof SemaphoreFullError) throw new QueryError('busy', err.message);
        throw err;
      }
      try {
        return await run(sql, range, qopts, budgetMs);
      } finally {
        release();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      instance.closeSync();
    },
  };
}

function timeoutError(budgetMs: number): QueryError {
  return new QueryError('timeout', `the query ran past its time budget of ${budgetMs} ms and was cancelled; narrow the time range or simplify the query`);
}

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function quoteIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

/** A connection-local view over the partitions, filtered to the range so row groups outside it are skipped. */
export function parquetViewSql(name: string, paths: readonly string[], src: Pick<ViewSource, 'columns' | 'timeColumn'>, range: TimeRange): string {
  if (paths.length === 0) return `CREATE OR REPLACE TEMP TABLE ${quoteIdent(name)} (${src.columns})`;
  const files = `[${paths.map(sqlString).join(', ')}]`;
  const where = src.timeColumn
    ? ` WHERE ${quoteIdent(src.timeColumn)} >= make_timestamp_ns(${range.begin}::BIGINT) AND ${quoteIdent(src.timeColumn)} < make_timestamp_ns(${range.end}::BIGINT)`
    : '';
  return `CREATE OR REPLACE TEMP VIEW ${quoteIdent(name)} AS SELECT * FROM read_parquet(${files}, union_by_name = true)${where}`;
}
