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
import type { DataType, Schema, Table } from 'apache-arrow';
import { DuckDBTypeId, type DuckDBPreparedStatement } from '@duckdb/node-api';
import { parseTimeArg, TimeArgError } from '@sirius/client';
import type { Lake } from '../lake/lake.js';
import type { Lakehouse, TimeRange, ViewSource } from '../lakehouse/lakehouse.js';
import { createObjectCache, type ObjectCache } from './object-cache.js';
import { scanSql, SqlScanError, type ScannedSql } from './sql-scan.js';
import { loadMetadataView, type MetadataView } from './metadata-views.js';
import { arrowTypeOf, ArrowBatchReader, resultToArrow, ResultTooLargeError, streamSchemaOf } from './arrow-from-duckdb.js';
import { openQueryStream, type QueryStream, type ServeBatches } from './query-stream.js';
import { loadTraceChunks } from './perfetto/trace-chunks-table.js';
export type { QueryStream } from './query-stream.js';
import { locateError } from './error-position.js';
import { QueryError } from './query-error.js';
import { Semaphore, SemaphoreFullError } from './semaphore.js';
import { parseByteSize, SandboxPool, type Sandbox } from './sandbox.js';
import { refuseIntrospection, StatementRefused } from './statement-gate.js';
import { prepareWithInstants } from './time-instant-compare.js';
import { createTimeRangeResolver, type RangeInput } from './time-range-resolver.js';
import { MemoryBudget } from './memory-budget.js';
import { findUnavailable } from '../lake/unavailable.js';
import { queryFinished } from '../self-telemetry.js';

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
  /** how far back a query that bounds no time reads, e.g. `24h` (default SIRIUS_DEFAULT_QUERY_RANGE, else 24h) */
  defaultRange?: string;
}

export type TimeInput = bigint | string | Date | number;
/** the caller's time range; a side left out comes from the query's own predicates on time, else the default */
export type { RangeInput } from './time-range-resolver.js';

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

export interface StreamOptions extends QueryOptions {
  /** a batch is cut once it holds about this many bytes (default 2 MiB) */
  batchBytes?: number;
  /** … or once it has at least this many rows (whole DuckDB chunks of 2 048 rows; default: no row limit) */
  batchRows?: number;
  /** size each batch's buffers from the previous batch (see `ArrowBatchReaderOptions.sizeFromPrevious`) */
  sizeFromPrevious?: boolean;
}

export interface QueryDescription {
  /** the result's Arrow schema as `stream` sends it; undefined when DuckDB cannot type it without parameter values */
  schema?: Schema;
  /** DuckDB's SQL type of each column (empty when `schema` is undefined) */
  sqlTypes: string[];
  /** the placeholders (`?`, `$1`…) in order: DuckDB's name for each and the type it infers (undefined: unknown) */
  parameters: { name: string; sqlType?: string; arrowType?: DataType }[];
}

export interface QueryEngine {
  query(sql: string, range: RangeInput, opts?: QueryOptions): Promise<QueryOutput>;
  /**
   * Runs the query and hands its result out batch by batch as the reader asks (`QueryStream.next`): memory
   * holds one batch, whatever the result's size; the row cap does not apply, the per-query byte cap applies
   * to one batch. The query keeps its slot and time budget until the stream ends or is closed.
   */
  stream(sql: string, range: RangeInput, opts?: StreamOptions): Promise<QueryStream>;
  /** Plans and prepares the query without running it: its result schema and parameter types. */
  describe(sql: string, range: RangeInput, opts?: QueryOptions): Promise<QueryDescription>;
  close(): Promise<void>;
}

const METADATA_VIEWS: readonly string[] = ['processes', 'streams', 'blocks'];

export function toNs(t: TimeInput, now = Date.now()): bigint {
  if (typeof t === 'number') return BigInt(Math.trunc(t)) * 1_000_000n; // ms since the epoch
  return parseTimeArg(t, now);
}

/** A planned, prepared query, handed to what runs it (`run`'s `consume`). */
interface PreparedQuery {
  prepared: DuckDBPreparedStatement;
  /** aborted when the query must stop (budget, cancel) */
  signal: AbortSignal;
  /** throws once the query must stop */
  checkBudget(): void;
  /** takes result bytes from the per-query cap and the shared result memory; throws ResultTooLargeError */
  reserve(bytes: number): void;
  /** gives back everything reserved so far (a streamed batch has been handed on) */
  releaseReserved(): void;
  stats(rows: number, resultBytes: number): QueryStats;
}

/** The result schema and parameter types DuckDB worked out when preparing. */
function describePrepared(prepared: DuckDBPreparedStatement): QueryDescription {
  const parameters: QueryDescription['parameters'] = [];
  for (let i = 1; i <= prepared.parameterCount; i++) {
    const name = prepared.parameterName(i);
    // a placeholder whose type DuckDB cannot infer (`SELECT ?`) has type id INVALID, and no type to ask for
    if (prepared.parameterTypeId(i) === DuckDBTypeId.INVALID) parameters.push({ name });
    else {
      const t = prepared.parameterType(i);
      parameters.push({ name, sqlType: t.toString(), arrowType: arrowTypeOf(t) });
    }
  }
  const names: string[] = [];
  const types = [];
  for (let i = 0; i < prepared.columnCount; i++) {
    if (prepared.columnTypeId(i) === DuckDBTypeId.INVALID) return { sqlTypes: [], parameters };
    names.push(prepared.columnName(i));
    types.push(prepared.columnType(i));
  }
  return { schema: streamSchemaOf(names, types), sqlTypes: types.map((t) => t.toString()), parameters };
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
  const ranges = await createTimeRangeResolver({ defaultRange: opts.defaultRange });
  let closed = false;

  /** Error text without the server's folders: object keys stay, local prefixes go. */
  function redactPaths(message: string): string {
    let out = message;
    for (const prefix of [storeRoot, join(cacheDir, 'objects') + '/', cacheDir + '/', cacheDir]) {
      if (prefix) out = out.split(prefix).join('');
    }
    return out;
  }

  /** Plans `sql` into a sandbox, prepares it, and hands it to `consume`, which decides how it runs. */
  async function run<T>(sql: string, range: TimeRange, qopts: QueryOptions, budgetMs: number, consume: (q: PreparedQuery) => Promise<T>, describeOnly = false): Promise<T> {
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
      // table functions computed by the engine itself, their queries running within this query's slot
      for (const ref of scanned.traceChunks) {
        await unlessStopped(loadTraceChunks(conn, ref, nested, { signal: stop.signal, describeOnly }));
        views.push(`perfetto_trace_chunks(${ref.processId})`);
      }
      checkBudget();
      refuseIntrospection(scanned.sql);
      const prepared = await prepareWithInstants(conn, scanned.sql);
      checkBudget();
      return await consume({
        prepared,
        signal: stop.signal,
        checkBudget,
        reserve(delta) {
          if (reserved + delta > maxResultBytes) {
            throw new ResultTooLargeError(`the result holds more than ${formatBytes(maxResultBytes)}: select fewer columns, aggregate, or add a LIMIT`);
          }
          if (!resultMemory.reserve(delta)) {
            throw new ResultTooLargeError(`the server's result memory (${formatBytes(resultMemory.capacity)}) is in use by other queries' results; retry shortly or ask for less`);
          }
          reserved += delta;
        },
        releaseReserved() {
          resultMemory.release(reserved);
          reserved = 0;
        },
        stats: (rows, resultBytes) => {
          const elapsedMs = Math.round((performance.now() - started) * 10) / 10;
          queryFinished(elapsedMs, rows);
          return { files, filesRead: files.length, cacheHits, views, rows, resultBytes, elapsedMs, begin: range.begin.toString(), end: range.end.toString() };
        },
      });
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

  /**
   * Checks the arguments, waits for a query slot, and runs `work` in it; the slot is released when `work`
   * settles, or — `keepSlot` — by `work` itself through the function it is given (a stream holds its slot).
   */
  async function withSlot<T>(
    sql: string,
    rangeIn: RangeInput,
    qopts: QueryOptions,
    work: (range: TimeRange, budgetMs: number, releaseSlot: () => void) => Promise<T>,
    keepSlot = false,
  ): Promise<T> {
    if (closed) throw new QueryError('internal', 'the query engine is closed');
    if (typeof sql !== 'string' || sql.trim() === '') throw new QueryError('bad_request', 'the query is empty');
    // explicit sides first, then the query's own bounds on time, then the default (time-range-resolver.ts)
    const { begin, end } = await ranges.resolve(sql, rangeIn);
    const range: TimeRange = { begin, end };
    const budgetMs = Math.max(1, qopts.timeoutMs ?? timeoutMs);
    let release: () => void;
    try {
      release = await slots.acquire();
    } catch (err) {
      if (err instanceof SemaphoreFullError) throw new QueryError('busy', err.message);
      throw err;
    }
    let released = false;
    const releaseOnce = () => {
      if (!released) (released = true), release();
    };
    try {
      return await work(range, budgetMs, releaseOnce);
    } catch (err) {
      releaseOnce();
      throw err;
    } finally {
      if (!keepSlot) releaseOnce();
    }
  }

  async function toTable(q: PreparedQuery): Promise<QueryOutput> {
    const result = await q.prepared.stream();
    // an interrupt that landed before DuckDB started executing was a no-op: look again
    q.checkBudget();
    const { table, sqlTypes, bytes } = await resultToArrow(result, { maxRows, signal: q.checkBudget, reserve: q.reserve });
    q.checkBudget();
    return { table, sqlTypes, stats: q.stats(table.numRows, bytes) };
  }

  async function toBatches(q: PreparedQuery, qopts: StreamOptions, serve: ServeBatches): Promise<QueryStats> {
    const result = await q.prepared.stream();
    q.checkBudget();
    const reader = new ArrowBatchReader(result, {
      batchBytes: qopts.batchBytes, batchRows: qopts.batchRows, sizeFromPrevious: qopts.sizeFromPrevious, signal: q.checkBudget, reserve: q.reserve,
    });
    // the batch handed out last has left the engine's hands when the next is asked for
    const rows = await serve(reader, q.signal, q.releaseReserved);
    // what a streamed query read and how long it ran, as for a whole result (and its query_duration)
    return q.stats(rows, 0);
  }

  /** Queries a table function runs for the query that called it: in that query's slot, not another one. */
  const nested: Pick<QueryEngine, 'query' | 'stream'> = {
    async query(sql, rangeIn, qopts = {}) {
      const range = await ranges.resolve(sql, rangeIn);
      return run(sql, range, qopts, Math.max(1, qopts.timeoutMs ?? timeoutMs), toTable);
    },
    async stream(sql, rangeIn, qopts = {}) {
      const range = await ranges.resolve(sql, rangeIn);
      return openQueryStream((serve) => run(sql, range, qopts, Math.max(1, qopts.timeoutMs ?? timeoutMs), (q) => toBatches(q, qopts, serve)));
    },
  };

  return {
    async query(sql, rangeIn, qopts = {}) {
      return withSlot(sql, rangeIn, qopts, (range, budgetMs) => run(sql, range, qopts, budgetMs, toTable));
    },
    async describe(sql, rangeIn, qopts = {}) {
      return withSlot(sql, rangeIn, qopts, (range, budgetMs) => run(sql, range, qopts, budgetMs, async ({ prepared }) => describePrepared(prepared), true));
    },
    async stream(sql, rangeIn, qopts = {}) {
      return withSlot(sql, rangeIn, qopts, (range, budgetMs, releaseSlot) =>
        openQueryStream((serve) => run(sql, range, qopts, budgetMs, (q) => toBatches(q, qopts, serve)).finally(releaseSlot)), true);
    },
    async close() {
      if (closed) return;
      closed = true;
      sandboxes.close();
      ranges.close();
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
export function parquetViewSql(name: string, paths: readonly string[], src: Pick<ViewSource, 'columns' | 'timeColumn' | 'timeEndColumn'>, range: TimeRange): string {
  if (paths.length === 0) return `CREATE OR REPLACE TEMP TABLE ${quoteIdent(name)} (${src.columns})`;
  const files = `[${paths.map(sqlString).join(', ')}]`;
  const t = src.timeColumn ? quoteIdent(src.timeColumn) : '';
  const begin = `make_timestamp_ns(${range.begin}::BIGINT)`;
  const end = `make_timestamp_ns(${range.end}::BIGINT)`;
  // intervals (spans) overlapping the range, those begun before it included; the `end >= begin` conjunct is
  // implied (an interval ends at or after it begins) but, unlike the OR, prunes row groups by their statistics
  const te = src.timeEndColumn ? quoteIdent(src.timeEndColumn) : '';
  const where = !src.timeColumn
    ? ''
    : src.timeEndColumn
      ? ` WHERE ${t} < ${end} AND ${te} >= ${begin} AND (${t} >= ${begin} OR ${te} > ${begin})`
      : ` WHERE ${t} >= ${begin} AND ${t} < ${end}`;
  return `CREATE OR REPLACE TEMP VIEW ${quoteIdent(name)} AS SELECT * FROM read_parquet(${files}, union_by_name = true)${where}`;
}
