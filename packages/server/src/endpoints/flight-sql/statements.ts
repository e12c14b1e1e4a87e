/**
 * Statement state between Flight calls. GetFlightInfo only plans and prepares a statement — DuckDB's
 * prepared form gives the exact result schema without running anything — and answers with a ticket that
 * names the SQL and its time range; DoGet runs the query and streams it. No result is ever held between
 * calls, so a result of any size costs the server one record batch at a time.
 *
 * A ticket's statement handle is either one of ours (a NUL byte, then 16 random bytes: single-use, expires
 * after `resultTtlMs`) or, when it does not start with NUL, SQL text to run as is over the DoGet call's
 * time range — the shortcut the seed system's Python client takes (DoGet without GetFlightInfo).
 *
 * Prepared statements keep their SQL, result schema and parameter types; DoPut binds parameter values,
 * which become SQL literals of their type.
 *
 * @example
 *   const s = new Statements(engine);
 *   const { handle, schema } = await s.ticket('SELECT 1', range);   // GetFlightInfo
 *   const stream = await s.stream(s.resolveTicket(handle, range)!); // DoGet
 */
import { Field, Null, Schema } from 'apache-arrow';
import type { QueryDescription, QueryEngine } from '../../analytics/query-engine.js';
import type { QueryStream } from '../../analytics/query-stream.js';
import { QueryError } from '../../analytics/query-error.js';
import { HandleStore } from './handle-store.js';
import { bindParameters, nullLiterals, parameterCount } from './parameters.js';
import { BadCommandError } from './protocol.js';
import type { TimeRangeArgs } from './call-context.js';

export interface StatementLimits {
  /** how long an unused prepared statement lives, ms (default 5 min) */
  ttlMs?: number;
  /** how long a ticket waits for its DoGet, ms (default 60 s: clients fetch right after GetFlightInfo) */
  resultTtlMs?: number;
  /** most tickets waiting for DoGet (default 1024; each holds its SQL text only) */
  maxResults?: number;
  /** most open prepared statements (default 256) */
  maxPrepared?: number;
  /** record batches are cut at about this many bytes (default 2 MiB) */
  batchBytes?: number;
}

/** what a ticket stands for: a statement to run */
export interface PendingStatement {
  sql: string;
  range: TimeRangeArgs;
}

interface Prepared {
  sql: string;
  /** placeholders in `sql` */
  params: number;
  /** `sql` with the parameters DoPut bound last */
  boundSql?: string;
  schema: Schema;
  parameterSchema: Schema;
}

/** our ticket handles start with a NUL byte, which SQL text never does */
const HANDLE_MARK = Buffer.from([0]);

export class Statements {
  private readonly tickets: HandleStore<PendingStatement>;
  private readonly prepared: HandleStore<Prepared>;

  constructor(
    private readonly engine: QueryEngine,
    private readonly limits: StatementLimits = {},
  ) {
    this.tickets = new HandleStore<PendingStatement>({ ttlMs: limits.resultTtlMs ?? 60_000, maxEntries: limits.maxResults ?? 1024 });
    this.prepared = new HandleStore({ ttlMs: limits.ttlMs ?? 5 * 60_000, maxEntries: limits.maxPrepared ?? 256 });
  }

  /** the statement's result schema, from its prepared form (nothing runs) */
  async schemaOf(sql: string, range: TimeRangeArgs, signal?: AbortSignal): Promise<Schema> {
    const desc = await this.engine.describe(sql, range, { signal });
    if (desc.schema) return desc.schema;
    throw new BadCommandError('cannot tell the result columns of this statement: give its parameters a type with a cast, e.g. CAST(? AS INTEGER)');
  }

  /** checks the statement and learns its schema; the handle goes into a TicketStatementQuery */
  async ticket(sql: string, range: TimeRangeArgs, signal?: AbortSignal): Promise<{ handle: Buffer; schema: Schema }> {
    const schema = await this.schemaOf(sql, range, signal);
    return { handle: Buffer.concat([HANDLE_MARK, this.tickets.put({ sql, range })]), schema };
  }

  /**
   * The statement a DoGet ticket's handle names: a stored one (taken: tickets are single-use), or the
   * handle itself as SQL text over `range`; undefined for one of ours that is unknown, expired or used.
   */
  resolveTicket(handle: Uint8Array, range: TimeRangeArgs): PendingStatement | undefined {
    if (handle.byteLength > 0 && handle[0] === HANDLE_MARK[0]) return this.tickets.take(handle.subarray(1));
    const sql = Buffer.from(handle).toString('utf8');
    if (sql.trim() === '') throw new BadCommandError('the ticket carries no statement: its statement_handle is empty');
    return { sql, range };
  }

  /** runs the statement, its result handed out batch by batch */
  stream(statement: PendingStatement, signal?: AbortSignal): Promise<QueryStream> {
    return this.engine.stream(statement.sql, statement.range, { signal, batchBytes: this.limits.batchBytes });
  }

  /**
   * Checks the statement and learns its result schema and parameter types from DuckDB's prepared form.
   * When DuckDB cannot type the result without values (`SELECT ?`), the result schema is the one with every
   * parameter NULL, and those parameters have Arrow type Null.
   */
  async prepare(sql: string, range: TimeRangeArgs, signal?: AbortSignal): Promise<{ handle: Buffer; schema: Schema; parameterSchema: Schema }> {
    const params = parameterCount(sql);
    let desc: QueryDescription | undefined;
    if (params > 0) {
      try {
        desc = await this.engine.describe(sql, range, { signal });
      } catch (err) {
        // SQL that only takes literals where a placeholder stands (a view_instance argument): typed with NULLs below
        if (!(err instanceof QueryError) || (err.code !== 'sql' && err.code !== 'bad_request')) throw err;
      }
    } else desc = await this.engine.describe(sql, range, { signal });
    const schema = desc?.schema ?? (await this.schemaOf(bindParameters(sql, nullLiterals(params)), range, signal));
    const fields = Array.from({ length: params }, (_, i) => {
      const p = desc?.parameters[i];
      return new Field(p?.name ?? String(i + 1), p?.arrowType ?? new Null(), true);
    });
    const entry: Prepared = { sql, params, schema, parameterSchema: new Schema(fields) };
    return { handle: this.prepared.put(entry), schema, parameterSchema: entry.parameterSchema };
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

  /** a ticket for one execution of a prepared statement over `range`; undefined when the handle is unknown or expired */
  async executePrepared(handle: Uint8Array, range: TimeRangeArgs, signal?: AbortSignal): Promise<{ handle: Buffer; schema: Schema } | undefined> {
    const entry = this.prepared.get(handle);
    if (!entry) return undefined;
    if (entry.params > 0 && entry.boundSql === undefined) {
      throw new BadCommandError(`the prepared statement takes ${entry.params} parameter(s): bind them with DoPut before executing it`);
    }
    return this.ticket(entry.boundSql ?? entry.sql, range, signal);
  }

  closePrepared(handle: Uint8Array): boolean {
    return this.prepared.delete(handle);
  }

  clear(): void {
    this.tickets.clear();
    this.prepared.clear();
  }
}
