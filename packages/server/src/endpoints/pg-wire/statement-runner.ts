/**
 * Runs one SQL statement for a session: the session commands PostgreSQL clients send (SET, SHOW,
 * transaction control, DISCARD…) are answered here; everything else goes to the query engine over the
 * session's time range, after PostgreSQL-only function calls are rewritten. Catalog reads run over
 * tables describing the Sirius views; those DuckDB cannot answer come back empty rather than failing the
 * client's connect sequence.
 *
 * @example
 *   const out = await runStatement({ sql: 'SELECT 1 AS x', originalOffset: (o) => o }, ctx);
 *   // { kind: 'rows', rows: RowSource, tag: 'SELECT 1' }
 */
import { QueryError } from '../../analytics/query-error.js';
import type { QueryEngine } from '../../analytics/query-engine.js';
import type { TransactionStatus } from './backend-messages.js';
import { isCatalogQuery, rewriteCatalogCalls, selectListNames, type CatalogContext } from './catalog.js';
import { catalogToDuckDb } from './catalog-dialect.js';
import { writeStatementKind } from '../../analytics/statement-gate.js';
import { pgColumnNames } from './column-names.js';
import { parseCopy, type CopyOptions } from './copy-out.js';
import type { CursorStore } from './cursors.js';
import { arrowRows, staticRows, type RowSource } from './row-source.js';
import { openRowStream, type RowStream } from './row-stream.js';
import { rangeFromComment, SettingError, type SessionSettings } from './session-settings.js';
import { codeTokens, lexSql, type Token } from './sql-lexer.js';
import { sqlStateFor } from './sqlstate.js';

export type Outcome =
  | { kind: 'rows'; rows: RowSource; tag: string }
  /** a query's rows as the engine produces them (row-stream.ts), tagged `SELECT n` once all are sent */
  | { kind: 'stream'; rows: RowStream }
  | { kind: 'command'; tag: string }
  | { kind: 'empty' }
  /** COPY … TO STDOUT: the rows go out as CopyData, tagged `COPY n` */
  | { kind: 'copy'; rows: RowSource; options: CopyOptions };

export class StatementError extends Error {
  override readonly name = 'StatementError';
  constructor(
    readonly sqlState: string,
    message: string,
    /** 0-based offset in the statement text the client sent */
    readonly offset?: number,
  ) {
    super(message);
  }
}

export interface StatementContext {
  engine: QueryEngine;
  settings: SessionSettings;
  catalog: CatalogContext;
  /** BEGIN/COMMIT move it; the session reports it in ReadyForQuery */
  transaction: { status: TransactionStatus };
  signal?: AbortSignal;
  /** a changed setting the client should hear about */
  onParameterStatus(name: string, value: string): void;
  /** DEALLOCATE: a prepared statement name, or null for ALL */
  deallocate(name: string | null): void;
  /** the session's SQL cursors (DECLARE / FETCH / MOVE / CLOSE) */
  cursors: CursorStore;
}

export interface SqlText {
  /** the statement, parameters already bound */
  sql: string;
  /** maps a 0-based offset in `sql` back to the client's text */
  originalOffset(offset: number): number;
}

export interface RunOptions {
  /** only the result's shape is needed (Describe of a statement): run it with LIMIT 0 */
  describeOnly?: boolean;
  /**
   * a query's rows may come back as a stream (kind 'stream') rather than whole: for the session's own
   * results; cursors and COPY, which count or window the rows, take them whole
   */
  stream?: boolean;
}

export async function runStatement(text: SqlText, ctx: StatementContext, opts: RunOptions = {}): Promise<Outcome> {
  const toks = codeTokens(text.sql);
  if (toks.length === 0) return { kind: 'empty' };
  const first = toks[0]!.value;
  try {
    switch (first) {
      case 'set': return { kind: 'command', tag: runSet(toks.slice(1), ctx) };
      case 'reset': return { kind: 'command', tag: runReset(toks.slice(1), ctx) };
      case 'show': return showRows(toks.slice(1), ctx);
      case 'begin': case 'start':
        if (ctx.transaction.status === 'I') ctx.transaction.status = 'T';
        return { kind: 'command', tag: first === 'begin' ? 'BEGIN' : 'START TRANSACTION' };
      case 'commit': case 'end': {
        // COMMIT of a failed transaction rolls it back, as PostgreSQL does
        const failed = ctx.transaction.status === 'E';
        ctx.transaction.status = 'I';
        ctx.cursors.endTransaction();
        return { kind: 'command', tag: failed ? 'ROLLBACK' : 'COMMIT' };
      }
      case 'rollback': case 'abort':
        if (toks[1]?.value === 'to' || toks[2]?.value === 'to') return { kind: 'command', tag: 'ROLLBACK' };
        ctx.transaction.status = 'I';
        ctx.cursors.endTransaction();
        return { kind: 'command', tag: 'ROLLBACK' };
      case 'savepoint': return { kind: 'command', tag: 'SAVEPOINT' };
      case 'release': return { kind: 'command', tag: 'RELEASE' };
      case 'listen': return { kind: 'command', tag: 'LISTEN' };
      case 'unlisten': return { kind: 'command', tag: 'UNLISTEN' };
      case 'discard':
        if (toks[1]?.value === 'all') {
          ctx.settings.resetAll();
          ctx.deallocate(null);
        }
        return { kind: 'command', tag: `DISCARD ${(toks[1]?.text ?? 'ALL').toUpperCase()}` };
      case 'declare':
        if (opts.describeOnly) return { kind: 'command', tag: 'DECLARE CURSOR' };
        return await ctx.cursors.declare(toks, text, ctx.transaction.status !== 'I', (query) => runQuery(query, ctx, {}));
      case 'fetch': case 'move':
        return ctx.cursors.fetch(toks, first, opts.describeOnly && first === 'fetch');
      case 'close':
        if (opts.describeOnly) return { kind: 'command', tag: 'CLOSE CURSOR' };
        return ctx.cursors.close(toks);
      case 'copy': {
        const plan = parseCopy(toks, text.sql);
        if (opts.describeOnly) return { kind: 'command', tag: 'COPY' };
        const shift = plan.selectStart;
        const outcome = await runQuery(
          { sql: plan.select, originalOffset: (o) => (shift < 0 ? text.originalOffset(toks[1]!.start) : text.originalOffset(o + shift)) },
          ctx, {},
        );
        if (outcome.kind !== 'rows') throw new StatementError('0A000', 'COPY copies the rows of a query or view');
        return { kind: 'copy', rows: outcome.rows, options: plan.options };
      }
      case 'deallocate': {
        const rest = toks.slice(1).filter((t) => t.value !== 'prepare');
        ctx.deallocate(rest[0] && rest[0].value !== 'all' ? (rest[0].kind === 'quoted' ? rest[0].value : rest[0].text) : null);
        return { kind: 'command', tag: rest[0]?.value === 'all' ? 'DEALLOCATE ALL' : 'DEALLOCATE' };
      }
    }
  } catch (err) {
    if (err instanceof SettingError) throw new StatementError(err.sqlState, err.message);
    throw err;
  }
  const write = writeStatementKind(text.sql);
  if (write) throw new StatementError('25006', `cannot execute ${write} in a read-only transaction: Sirius serves SQL for reading only`, toks[0]!.start);
  return runQuery(text, ctx, opts);
}

/** small batches: the first DataRows leave soon, and DuckDB computes the next batch while they are sent */
const STREAM_BATCH_BYTES = 512 * 1024;

async function runQuery(text: SqlText, ctx: StatementContext, opts: RunOptions): Promise<Outcome> {
  const rewritten = rewriteCatalogCalls(text.sql, ctx.catalog);
  const session = ctx.settings.range();
  const comments = lexSql(text.sql).filter((t) => t.kind === 'comment' && t.text.startsWith('/*')).map((t) => t.value);
  const given = { ...session, ...rangeFromComment(comments) };
  // an empty side is unset: the engine derives it from the query's predicates on time, else its default
  const range = { begin: given.begin || undefined, end: given.end || undefined };
  const catalog = isCatalogQuery(text.sql);
  // catalog reads are answered from tables describing the Sirius views (see catalog-dialect.ts)
  let sql = catalog ? catalogToDuckDb(rewritten.sql, ctx.catalog) : rewritten.sql;
  let prefix = 0;
  if (opts.describeOnly && /^\s*(select|with|values|from|table)\b/i.test(stripLeadingComments(sql))) {
    const head = 'SELECT * FROM (\n';
    sql = `${head}${sql.replace(/;\s*$/, '')}\n) AS sirius_describe LIMIT 0`;
    prefix = head.length;
  }
  try {
    // EXPLAIN's tag carries no count and its plan is small: only plain queries stream
    if (opts.stream && !catalog && !opts.describeOnly && /^\s*(select|with|values|from|table)\b/i.test(stripLeadingComments(text.sql))) {
      const stream = await ctx.engine.stream(sql, range, { signal: ctx.signal, batchBytes: STREAM_BATCH_BYTES, sizeFromPrevious: true });
      return { kind: 'stream', rows: await openRowStream(stream, pgColumnNames(text.sql)) };
    }
    const out = await ctx.engine.query(sql, range, { signal: ctx.signal });
    // PostgreSQL's names for unnamed columns (count, sum, ?column?) rather than DuckDB's (count_star(), …)
    const names = pgColumnNames(text.sql);
    const rows = arrowRows(out.table, out.sqlTypes, names?.length === out.table.numCols ? names : undefined);
    return { kind: 'rows', rows, tag: `${/^\s*explain\b/i.test(stripLeadingComments(text.sql)) ? 'EXPLAIN' : 'SELECT'} ${out.table.numRows}`.replace(/^EXPLAIN \d+$/, 'EXPLAIN') };
  } catch (err) {
    if (!(err instanceof QueryError)) throw err;
    if (err.code === 'sql' && catalog) {
      // a catalog probe DuckDB cannot answer: an empty result keeps the client going
      const names = selectListNames(text.sql);
      return { kind: 'rows', rows: staticRows(names.length > 0 ? names : ['?column?'], []), tag: 'SELECT 0' };
    }
    let offset: number | undefined;
    if (err.position !== undefined && !catalog) {
      const inSql = err.position - 1 - prefix;
      if (inSql >= 0 && inSql <= rewritten.sql.length) offset = text.originalOffset(rewritten.originalOffset(inSql));
    }
    throw new StatementError(sqlStateFor(err), err.message, offset);
  }
}

function stripLeadingComments(sql: string): string {
  const t = lexSql(sql).find((x) => x.kind !== 'comment');
  return t ? sql.slice(t.start) : '';
}

/** `name {TO|=} value[, …]`, `TIME ZONE value`, `SESSION|LOCAL …`, `TRANSACTION …`, `NAMES …` */
function runSet(toks: Token[], ctx: StatementContext): string {
  if (toks[0]?.value === 'session' || toks[0]?.value === 'local') {
    toks = toks.slice(1);
    if (toks[0]?.value === 'authorization' || toks[0]?.value === 'characteristics') return 'SET';
  }
  if (toks[0]?.value === 'transaction' || toks[0]?.value === 'constraints' || toks[0]?.value === 'role') return 'SET';
  let name: string;
  let rest: Token[];
  if (toks[0]?.value === 'time' && toks[1]?.value === 'zone') {
    name = 'TimeZone';
    rest = toks.slice(2);
  } else if (toks[0]?.value === 'names') {
    name = 'client_encoding';
    rest = toks.slice(1);
  } else {
    let k = 0;
    name = '';
    while (k < toks.length && (toks[k]!.kind === 'word' || toks[k]!.kind === 'quoted' || toks[k]!.text === '.')) {
      if (name !== '' && toks[k]!.value === 'to' && toks[k - 1]!.text !== '.') break;
      name += toks[k]!.kind === 'quoted' ? toks[k]!.value : toks[k]!.text;
      k++;
    }
    if (name === '') throw new StatementError('42601', 'syntax error in SET: expected a parameter name', toks[0]?.start);
    if (toks[k]?.value !== 'to' && toks[k]?.text !== '=') {
      throw new StatementError('42601', `syntax error in SET: expected TO or = after ${name}`, toks[k]?.start);
    }
    rest = toks.slice(k + 1);
  }
  if (rest.length === 0) throw new StatementError('42601', `syntax error in SET ${name}: missing value`);
  if (rest.length === 1 && rest[0]!.value === 'default') {
    const reported = ctx.settings.reset(name);
    if (reported) ctx.onParameterStatus(reported, ctx.settings.get(reported) ?? '');
    return 'SET';
  }
  const parts: string[] = [];
  let current = '';
  for (const t of rest) {
    if (t.text === ',') {
      parts.push(current);
      current = '';
    } else {
      current += t.kind === 'string' || t.kind === 'quoted' ? t.value : t.text;
    }
  }
  parts.push(current);
  if (name.toLowerCase() === 'timezone' && rest[0]?.value === 'local') parts.splice(0, parts.length, 'UTC');
  const value = parts.join(', ');
  const reported = ctx.settings.set(name, value);
  if (reported) ctx.onParameterStatus(reported, ctx.settings.get(reported) ?? value);
  return 'SET';
}

function runReset(toks: Token[], ctx: StatementContext): string {
  if (toks[0]?.value === 'all') {
    ctx.settings.resetAll();
    return 'RESET';
  }
  const name = toks.map((t) => (t.kind === 'quoted' ? t.value : t.text)).join('');
  const reported = ctx.settings.reset(name);
  if (reported) ctx.onParameterStatus(reported, ctx.settings.get(reported) ?? '');
  return 'RESET';
}

function showRows(toks: Token[], ctx: StatementContext): Outcome {
  if (toks[0]?.value === 'all') {
    return { kind: 'rows', rows: staticRows(['name', 'setting', 'description'], ctx.settings.all().map(([k, v]) => [k, v, ''])), tag: 'SHOW' };
  }
  let name = toks.map((t) => (t.kind === 'quoted' ? t.value : t.text)).join('').toLowerCase();
  if (toks[0]?.value === 'transaction' && toks[1]?.value === 'isolation') name = 'transaction_isolation';
  else if (toks[0]?.value === 'time' && toks[1]?.value === 'zone') name = 'timezone';
  const value = ctx.settings.get(name);
  if (value === undefined) throw new StatementError('42704', `unrecognized configuration parameter "${name}"`, toks[0]?.start);
  return { kind: 'rows', rows: staticRows([name], [[value]]), tag: 'SHOW' };
}
