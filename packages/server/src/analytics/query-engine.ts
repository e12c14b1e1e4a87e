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
import { join, resolve as resolvePath } from 'node:path';
import type { Table } from 'apache-arrow';
import { parseTimeArg, TimeArgError } from '@sirius/client';
import type { Lake } from '../lake/lake.js';
import type { Lakehouse, TimeRange, ViewSource } from '../lakehouse/lakehouse.js';
import { createObjectCache, type ObjectCache } from './object-cache.js';
import { scanSql, SqlScanError, type ScannedSql } from './sql-scan.js';
import { loadMetadataView, type MetadataView } from './metadata-views.js';
import { resultToArrow, ResultTooLargeError } from './arrow-from-duckdb.js';
import { locateError } from './error-position.js';
import { QueryError } from './query-error.js';
import { Semaphore, SemaphoreFullError } from './semaphore.js';
import { parseByteSize, SandboxPool, type Sandbox } from './sandbox.js';
import { prepareReadOnly, refuseIntrospection, StatementRefused } from './statement-gate.js';
import { MemoryBudget } from './memory-budget.js';
import { findUnavailable } from '../lake/unavailable.js';

export interface QueryLimits {
  /** per-query time budget, ms (default 60 000) */
  timeoutMs?: number;
  /** DuckDB memory for all running queries together, shared equally by the query slots (default '2GB') */
  memoryLimit?: string;
  /** DuckDB worker threads per query (default: DuckDB's choice, one per core) */
  threads?: number;
  /** queries running at once (default 2) */
  maxConcurrent?: number;
  /** queries waiting for a slot before new ones are refused (default 64) */
  maxQueued?: number;
  /** most rows a result may have (default 5 000 000) */
  maxRows?: number;
  /** most bytes one result may hold on the server (default 256 MiB) */
  maxResultBytes?: number;
  /** bytes all results being built at once may hold together (default 512 MiB) */
  resultMemoryBytes?: number;
  /** bytes of S3 objects kept in the local cache (default 2 GiB) */
  cacheBytes?: number;
}

export interface QueryEngineOptions {
  lake: Lake;
  lakehouse: Lakehouse;
  /** where S3 objects are cached and DuckDB spills */
  cacheDir: string;
  limits?: QueryLimits;
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
  /** bytes of the result's Arrow buffers */
  resultBytes: number;
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

/** Thrown inside a query once its budget ran out or its client cancelled; mapped to the right QueryError. */
class Stopped extends Error {}

export async function createQueryEngine(opts: QueryEngineOptions): Promise<QueryEngine> {
  const limits = opts.limits ?? {};
  const timeoutMs = limits.timeoutMs ?? 60_000;
  const maxRows = limits.maxRows ?? 5_000_000;
  const maxConcurrent = limits.maxConcurrent ?? 2;
  const maxResultBytes = limits.maxResultBytes ?? 256 * 2 ** 20;
  const resultMemory = new MemoryBudget(limits.resultMemoryBytes ?? 512 * 2 ** 20);
  const cacheDir = resolvePath(opts.cacheDir);
  const cache: ObjectCache = await createObjectCache({
    dir: join(cacheDir, 'objects'),
    maxBytes: limits.cacheBytes ?? 2 * 1024 ** 3,
    objects: opts.lake.objects,
  });
  let memoryLimitBytes: number;
  try {
    memoryLimitBytes = parseByteSize(limits.memoryLimit ?? '2GB');
  } catch (err) {
    throw new QueryError('bad_request', `query memory limit: ${(err as Error).message}`);
  }
  // every query gets a DuckDB instance of its own (sandbox.ts); the slots share the engine's memory
  const sandboxes = new SandboxPool({
    memoryLimitBytes: memoryLimitBytes / maxConcurrent,
    threads: limits.threads,
    spillRoot: join(cacheDir, 'spill'),
    spare: Math.min(2, maxConcurrent),
  });
  const storeRoot = opts.lake.objects.localPath('x')?.slice(0, -1);
  const slots = new Semaphore(maxConcurrent, limits.maxQueued ?? 64);
  let closed = false;

  /** Error text without the server's folders: object keys stay, local prefixes go. */
  function redactPaths(message: string): string {
    let out = message;
    for (const prefix of [storeRoot, join(cacheDir, 'objects') + '/', cacheDir + '/', cacheDir]) {
      if (prefix) out = out.split(prefix).join('');
    }
    return out;
  }

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
    let box: Sandbox | undefined;
    let reserved = 0;
    // one signal for both ways a query stops: its budget runs out, or its client goes away
    const stop = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      stop.abort();
    }, budgetMs);
    const onAbort = () => stop.abort();
    if (qopts.signal?.aborted) stop.abort();
    else qopts.signal?.addEventListener('abort', onAbort, { once: true });
    stop.signal.addEventListener('abort', () => box?.interrupt(), { once: true });
    const checkBudget = () => {
      if (stop.signal.aborted) throw new Stopped();
    };
    /** Waits for `work` unless the query stops first; what `work` yields after that is released. */
    const unlessStopped = <T>(work: Promise<T>, discard?: (late: T) => void): Promise<T> => {
      checkBudget();
      return new Promise<T>((resolve, reject) => {
        const onStop = () => {
          work.then((late) => discard?.(late), () => undefined);
          reject(new Stopped());
        };
        stop.signal.addEventListener('abort', onStop, { once: true });
        work.then(
          (v) => (stop.signal.removeEventListener('abort', onStop), resolve(v)),
          (e) => (stop.signal.removeEventListener('abort', onStop), reject(e)),
        );
      });
    };
    try {
      box = await unlessStopped(sandboxes.take(), (late) => late.dispose());
      const conn = box.connection;
      const views: string[] = [];
      // Lakehouse views first (they may materialize just-in-time partitions), in parallel.
      const lakeRefs: { name: string; view: string; instance: string }[] = [];
      for (const g of scanned.globals) if (!METADATA_VIEWS.includes(g)) lakeRefs.push({ name: g, view: g, instance: 'global' });
      for (const i of scanned.instances) lakeRefs.push({ name: i.alias, view: i.view, instance: i.instance });
      const resolved = await Promise.all(
        lakeRefs.map(async (r) => {
          try {
            const src = await unlessStopped(
              opts.lakehouse.resolve(r.view, r.instance, range, { signal: stop.signal }),
              (late) => void late.release().catch(() => undefined),
            );
            sources.push(src);
            return { ...r, src };
          } catch (err) {
            if (err instanceof Stopped || stop.signal.aborted) throw new Stopped();
            const down = findUnavailable(err);
            if (down) throw new QueryError('unavailable', down.message, undefined, { cause: err });
            throw new QueryError('bad_request', `cannot resolve view ${r.view}(${r.instance}): ${redactPaths((err as Error).message)}`, undefined, { cause: err });
          }
        }),
      );
      const planned: { name: string; paths: string[]; src: ViewSource }[] = [];
      for (const r of resolved) {
        const remote: string[] = [];
        const paths: string[] = [];
        for (const key of r.src.objectKeys) {
          const local = opts.lake.objects.localPath(key);
          if (local !== undefined) paths.push(local);
          else remote.push(key);
        }
        if (remote.length > 0) {
          const lease = await unlessStopped(cache.acquire(remote), (late) => late.release());
          leases.push(lease);
          cacheHits += lease.hits;
          paths.push(...lease.paths);
        }
        paths.push(...r.src.localFiles);
        files.push(...r.src.objectKeys, ...r.src.localFiles);
        views.push(r.instance === 'global' ? r.view : `${r.view}(${r.instance})`);
        planned.push({ name: r.name, paths, src: r.src });
      }
      // from here on the instance reads exactly the planned files, and nothing can change that
      await box.seal(planned.flatMap((p) => p.paths));
      for (const p of planned) await conn.run(parquetViewSql(p.name, p.paths, p.src, range));
      for (const g of scanned.globals) {
        if (!METADATA_VIEWS.includes(g)) continue;
        await unlessStopped(loadMetadataView(conn, opts.lake.sql, g as MetadataView, range));
        views.push(g);
      }
      checkBudget();
      refuseIntrospection(scanned.sql);
      const prepared = await prepareReadOnly(conn, scanned.sql);
      checkBudget();
      const result = await prepared.stream();
      // an interrupt that landed before DuckDB started executing was a no-op: look again
      checkBudget();
      const { table, sqlTypes, bytes } = await resultToArrow(result, {
        maxRows,
        signal: checkBudget,
        reserve(delta) {
          if (reserved + delta > maxResultBytes) {
            throw new ResultTooLargeError(`the result holds more than ${formatBytes(maxResultBytes)}: select fewer columns, aggregate, or add a LIMIT`);
          }
          if (!resultMemory.reserve(delta)) {
            throw new ResultTooLargeError(`the server's result memory (${formatBytes(resultMemory.capacity)}) is in use by other queries' results; retry shortly or ask for less`);
          }
          reserved += delta;
        },
      });
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
          resultBytes: bytes,
          elapsedMs: Math.round((performance.now() - started) * 10) / 10,
          begin: range.begin.toString(),
          end: range.end.toString(),
        },
      };
    } catch (err) {
      if (err instanceof QueryError) throw err;
      if (timedOut) throw timeoutError(budgetMs);
      const down = findUnavailable(err);
      if (down) throw new QueryError('unavailable', down.message, undefined, { cause: err });
      if (stop.signal.aborted) throw new QueryError('bad_request', 'the query was cancelled');
      if (err instanceof StatementRefused) throw new QueryError('bad_request', err.message, 1);
      if (err instanceof ResultTooLargeError) throw new QueryError('too_large', err.message);
      const located = locateError(redactPaths((err as Error)?.message ?? String(err)), scanned.sql);
      let position = located.offset === undefined ? undefined : scanned.originalOffset(located.offset) + 1;
      if (position === undefined && /at end of input/.test(located.message)) position = sql.trimEnd().length + 1;
      throw new QueryError('sql', located.message, position, { cause: err });
    } finally {
      clearTimeout(timer);
      qopts.signal?.removeEventListener('abort', onAbort);
      resultMemory.release(reserved);
      // closing an instance joins its threads (3–12 ms): after the answer is on its way, not before
      if (box) setImmediate(box.dispose);
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
      sandboxes.close();
    },
  };
}

function formatBytes(n: number): string {
  return n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : `${Math.round(n / 2 ** 20)} MiB`;
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
