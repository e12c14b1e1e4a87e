/**
 * Statement state between Flight calls. A statement runs when the client asks for its FlightInfo (the
 * schema must be exact, and DuckDB only knows it by running the query); the result waits under a
 * single-use handle for DoGet. Prepared statements keep their SQL and result schema; the result computed
 * while preparing serves the first execution when it asks for the same time range, so the usual
 * prepare → execute sequence runs the query once. A statement with placeholders is checked at prepare time
 * with every parameter NULL (which gives its result's columns), and runs with the parameters last bound.
 *
 * @example
 *   const s = new Statements(engine, { ttlMs: 300_000, maxEntries: 64 });
 *   const { handle, output } = await s.execute('SELECT 1', range);   // handle goes into the ticket
 *   s.takeResult(handle);                                           // DoGet
 */
import type { Schema } from 'apache-arrow';
import type { QueryEngine, QueryOutput } from '../../analytics/query-engine.js';
import { HandleStore } from './handle-store.js';
import { bindParameters, nullLiterals, parameterCount } from './parameters.js';
import { BadCommandError } from './protocol.js';
import type { TimeRangeArgs } from './call-context.js';

export interface StatementLimits {
  /** how long an unused prepared statement lives, ms (default 5 min) */
  ttlMs?: number;
  /** how long a result waits for its DoGet, ms (default 60 s: clients fetch right after GetFlightInfo) */
  resultTtlMs?: number;
  /** most results waiting for DoGet (default 32) and most open prepared statements (default 256) */
  maxResults?: number;
  /** most bytes of results waiting for DoGet, all clients together (default 256 MiB); the oldest go first */
  maxResultBytes?: number;
  maxPrepared?: number;
  /** how long the result computed at prepare time may stand in for the first execution, ms (default 30 s) */
  warmMs?: number;
}

interface Prepared {
  sql: string;
  /** placeholders in `sql` */
  params: number;
  /** `sql` with the parameters DoPut bound last */
  boundSql?: string;
  schema: Schema;
  warm?: { output: QueryOutput; range: TimeRangeArgs };
  warmTimer?: NodeJS.Timeout;
}

const WARM_MAX_BYTES = 16 * 2 ** 20;

export class Statements {
  private readonly results: HandleStore<QueryOutput>;
  private readonly prepared: HandleStore<Prepared>;
  private readonly warmMs: number;

  constructor(
    private readonly engine: QueryEngine,
    limits: StatementLimits = {},
  ) {
    const ttlMs = limits.ttlMs ?? 5 * 60_000;
    this.results = new HandleStore<QueryOutput>({
      ttlMs: limits.resultTtlMs ?? 60_000,
      maxEntries: limits.maxResults ?? 32,
      maxBytes: limits.maxResultBytes ?? 256 * 2 ** 20,
      sizeOf: (o) => o.stats.resultBytes,
    });
    this.prepared = new HandleStore({ ttlMs, maxEntries: limits.maxPrepared ?? 256 });
    this.warmMs = limits.warmMs ?? 30_000;
  }

  run(sql: string, range: TimeRangeArgs, signal?: AbortSignal): Promise<QueryOutput> {
    return this.engine.query(sql, range, { signal });
  }

  /** runs the SQL and parks the result for DoGet */
  async execute(sql: string, range: TimeRangeArgs, signal?: AbortSignal): Promise<{ handle: Buffer; output: QueryOutput }> {
    const output = await this.run(sql, range, signal);
    return { handle: this.results.put(output), output };
  }

  takeResult(handle: Uint8Array): QueryOutput | undefined {
    return this.results.take(handle);
  }

  /** runs the SQL once (parameters NULL) to validate it and learn its schema */
  async prepare(sql: string, range: TimeRangeArgs, signal?: AbortSignal): Promise<{ handle: Buffer; schema: Schema }> {
    const params = parameterCount(sql);
    const output = await this.run(params > 0 ? bindParameters(sql, nullLiterals(params)) : sql, range, signal);
    const entry: Prepared = { sql, params, schema: output.table.schema };
    // a small result may stand in for the first execution; a large one is not worth holding
    if (params === 0 && output.stats.resultBytes <= WARM_MAX_BYTES) {
      entry.warm = { output, range };
      entry.warmTimer = setTimeout(() => (entry.warm = undefined), this.warmMs);
      entry.warmTimer.unref();
    }
    return { handle: this.prepared.put(entry), schema: entry.schema };
  }

  /** binds parameter literals for the next executions; false when the handle is unknown or expired */
  bind(handle: Uint8Array, literals: string[]): boolean {
    const entry = this.prepared.get(handle);
    if (!entry) return false;
    entry.boundSql = bindParameters(entry.sql, literals); // a wrong count fails here, not at execution
    return true;
  }

  preparedSchema(handle: Uint8Array): Schema | undefined {
    return this.prepared.get(handle)?.schema;
  }

  /** executes a prepared statement over `range`; undefined when the handle is unknown or expired */
  async executePrepared(handle: Uint8Array, range: TimeRangeArgs, signal?: AbortSignal): Promise<{ handle: Buffer; output: QueryOutput } | undefined> {
    const entry = this.prepared.get(handle);
    if (!entry) return undefined;
    const warm = entry.warm;
    entry.warm = undefined;
    clearTimeout(entry.warmTimer);
    if (warm && warm.range.begin === range.begin && warm.range.end === range.end) {
      return { handle: this.results.put(warm.output), output: warm.output };
    }
    if (entry.params > 0 && entry.boundSql === undefined) {
      throw new BadCommandError(`the prepared statement takes ${entry.params} parameter(s): bind them with DoPut before executing it`);
    }
    return this.execute(entry.boundSql ?? entry.sql, range, signal);
  }

  closePrepared(handle: Uint8Array): boolean {
    const entry = this.prepared.get(handle);
    if (entry) clearTimeout(entry.warmTimer);
    return this.prepared.delete(handle);
  }

  clear(): void {
    this.results.clear();
    this.prepared.clear();
  }
}
