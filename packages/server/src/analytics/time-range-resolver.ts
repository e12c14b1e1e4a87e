/**
 * The time range a query runs over. Each side, in order of precedence: what the caller gave (HTTP body,
 * `/* begin=… *\/` comment, pg `SET sirius.begin`, Flight `x-sirius-begin` / `query_range_begin`), else
 * what the query's own predicates on time allow (time-range-from-sql.ts), else the default: the last
 * `SIRIUS_DEFAULT_QUERY_RANGE` (default `24h`) up to the end. A query bounded on one side only reads
 * from that bound up to now (`time >= …`), or from the epoch up to the bound (`time < …`).
 *
 * The predicates are read and their bounds evaluated by a small DuckDB instance of its own: no file or
 * network access, configuration locked, UTC, so evaluating a bound can do nothing but compute.
 *
 * @example
 *   const r = await createTimeRangeResolver({ defaultRange: '24h' });
 *   await r.resolve(`SELECT * FROM log_entries WHERE time >= now() - INTERVAL 7 DAY`, {}) // { begin: now-7d, end: now }
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { parseTimeArg, TimeArgError } from '@sirius/client';
import type { TimeRange } from '../lakehouse/lakehouse.js';
import { QueryError } from './query-error.js';
import { SQL_FUNCTIONS } from './sql-functions.js';
import { timeRangeFromSql } from './time-range-from-sql.js';
import type { TimeInput } from './query-engine.js';

/** the caller's range: either side may be left to the query and the default */
export interface RangeInput {
  begin?: TimeInput;
  end?: TimeInput;
}

export interface TimeRangeResolverOptions {
  /** how far back a query bounded by nothing reads: a duration (`24h`, `7d`); default SIRIUS_DEFAULT_QUERY_RANGE, else `24h` */
  defaultRange?: string;
}

export interface ResolvedRange extends TimeRange {
  /** where each side came from */
  source: { begin: RangeSource; end: RangeSource };
}
export type RangeSource = 'explicit' | 'query' | 'default';

export interface TimeRangeResolver {
  resolve(sql: string, given: RangeInput, now?: number): Promise<ResolvedRange>;
  close(): void;
}

const DURATION = /^\d+(?:\.\d+)?\s*(ns|us|ms|s|min|m|h|d|w)$/i;

function toNs(t: TimeInput, now = Date.now()): bigint {
  if (typeof t === 'number') return BigInt(Math.trunc(t)) * 1_000_000n; // ms since the epoch
  return parseTimeArg(t, now);
}

export async function createTimeRangeResolver(opts: TimeRangeResolverOptions = {}): Promise<TimeRangeResolver> {
  const defaultRange = (opts.defaultRange ?? process.env.SIRIUS_DEFAULT_QUERY_RANGE ?? '').trim() || '24h';
  if (!DURATION.test(defaultRange)) {
    throw new QueryError('bad_request', `default query range "${defaultRange}": want a duration such as 24h, 7d or 30m`);
  }
  const instance = await DuckDBInstance.create(':memory:', {
    enable_external_access: 'false',
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    memory_limit: '64MiB',
    threads: '1',
  });
  const setup = await instance.connect();
  await setup.run(`SET TimeZone = 'UTC'`);
  for (const stmt of SQL_FUNCTIONS) await setup.run(stmt);
  await setup.run('SET lock_configuration = true');
  setup.closeSync();
  let closed = false;

  async function derive(sql: string) {
    let conn: DuckDBConnection | undefined;
    try {
      conn = await instance.connect();
      return await timeRangeFromSql(conn, sql);
    } catch {
      return {};
    } finally {
      conn?.closeSync();
    }
  }

  return {
    async resolve(sql, given, now = Date.now()) {
      let begin: bigint | undefined;
      let end: bigint | undefined;
      try {
        if (given.begin !== undefined) begin = toNs(given.begin, now);
        if (given.end !== undefined) end = toNs(given.end, now);
      } catch (err) {
        if (err instanceof TimeArgError) throw new QueryError('bad_request', err.message);
        throw err;
      }
      const source = { begin: 'explicit' as RangeSource, end: 'explicit' as RangeSource };
      if (begin === undefined || end === undefined) {
        const derived = closed ? {} : await derive(sql);
        if (begin === undefined && derived.begin !== undefined) (begin = derived.begin), (source.begin = 'query');
        if (end === undefined && derived.end !== undefined) (end = derived.end), (source.end = 'query');
      }
      if (end === undefined) (end = toNs('now', now)), (source.end = 'default');
      if (begin === undefined && source.end === 'query') {
        // `time < X` alone allows everything before X: never narrower than the query
        (begin = 0n), (source.begin = 'query');
      } else if (begin === undefined) {
        (begin = end - (toNs('now', now) - toNs(defaultRange, now))), (source.begin = 'default');
      }
      if (begin >= end) {
        if (source.begin === 'explicit' && source.end === 'explicit') {
          throw new QueryError('bad_request', `the time range is empty: begin (${begin} ns) must be before end (${end} ns)`);
        }
        // the query bounds itself to nothing (or to the future): a one-nanosecond range reads nothing, fast
        end = begin + 1n;
      }
      return { begin, end, source };
    },
    close() {
      if (closed) return;
      closed = true;
      instance.closeSync();
    },
  };
}
