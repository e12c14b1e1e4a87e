/**
 * Decides whether a user's SQL may run, by DuckDB's own parser rather than by keywords: exactly one
 * statement, and DuckDB must classify it as a SELECT. `EXPLAIN [ANALYZE]` is let through only around a
 * statement that DuckDB, prepared on its own, classifies as a SELECT — `EXPLAIN ANALYZE` executes what it
 * wraps, so `EXPLAIN ANALYZE COPY … TO` would otherwise write files. What runs is then rebuilt from the
 * checked inner text, so the statement executed is exactly the one that was checked.
 *
 * This is one of two walls: the query also runs in a DuckDB instance of its own that sees only the files
 * it was planned to read (sandbox.ts), so what a SELECT's table functions may change dies with it.
 *
 * @example
 *   const prepared = await prepareReadOnly(conn, 'EXPLAIN ANALYZE SELECT count(*) FROM log_entries');
 *   await prepareReadOnly(conn, 'EXPLAIN ANALYZE COPY (SELECT 1) TO \'x.csv\''); // throws StatementRefused
 */
import { StatementType, type DuckDBConnection, type DuckDBPreparedStatement } from '@duckdb/node-api';
import { sqlTokens } from './sql-scan.js';

export class StatementRefused extends Error {
  override readonly name = 'StatementRefused';
}

/** Prepares `sql` when it is one read-only statement; throws StatementRefused otherwise (DuckDB's own errors pass through). */
export async function prepareReadOnly(conn: DuckDBConnection, sql: string): Promise<DuckDBPreparedStatement> {
  const extracted = await conn.extractStatements(sql);
  if (extracted.count !== 1) {
    throw new StatementRefused(extracted.count === 0 ? 'the query is empty' : `one statement per query (got ${extracted.count})`);
  }
  let prepared: DuckDBPreparedStatement;
  try {
    prepared = await extracted.prepare(0);
  } catch (err) {
    // a write names views DuckDB cannot write to, so binding fails first: say what was refused instead
    const write = writeStatementKind(sql);
    if (write) throw new StatementRefused(`only SELECT queries are allowed (got ${/^[AEIOU]/.test(write) ? 'an' : 'a'} ${write} statement)`);
    throw err;
  }
  const kind = prepared.statementType;
  if (kind === StatementType.SELECT) return prepared;
  if (kind !== StatementType.EXPLAIN) throw refused(kind);
  prepared.destroySync();
  const explain = splitExplain(sql);
  if (!explain) throw new StatementRefused('only EXPLAIN [ANALYZE] <SELECT …> is allowed');
  const inner = await conn.extractStatements(explain.inner);
  if (inner.count !== 1) throw new StatementRefused('EXPLAIN takes one SELECT statement');
  const innerPrepared = await inner.prepare(0);
  const innerKind = innerPrepared.statementType;
  innerPrepared.destroySync();
  if (innerKind !== StatementType.SELECT) throw refused(innerKind, 'EXPLAIN of ');
  return conn.prepare(`EXPLAIN ${explain.analyze ? 'ANALYZE ' : ''}${explain.inner}`);
}

/**
 * Functions that describe the server rather than the data: settings (the spill folder, the files a query
 * may read, DuckDB's home), secrets, extensions, logs and cached files. Matched on the lexer's identifiers,
 * so a qualified (`system.main.duckdb_settings`) or quoted name is refused too; a column of the same name
 * is refused with them, which costs nothing real.
 */
const SERVER_INTROSPECTION = new Set([
  'duckdb_settings', 'current_setting', 'duckdb_secrets', 'which_secret', 'duckdb_temporary_files', 'duckdb_extensions',
  'duckdb_external_file_cache', 'duckdb_logs', 'duckdb_logs_parsed', 'duckdb_log_contexts', 'enable_logging',
  'disable_logging', 'truncate_duckdb_logs', 'duckdb_memory', 'pragma_database_size', 'database_size',
]);

/** Throws StatementRefused when the SQL names a function that describes the server. */
export function refuseIntrospection(sql: string): void {
  for (const t of sqlTokens(sql)) {
    if (t.kind === 'ident' && SERVER_INTROSPECTION.has(t.value.toLowerCase())) {
      throw new StatementRefused(`${t.value.toLowerCase()} is not available: it describes the server, not the data`);
    }
  }
}

const WRITE_VERBS = new Set([
  'insert', 'update', 'delete', 'merge', 'upsert', 'create', 'drop', 'alter', 'truncate', 'grant', 'revoke', 'comment', 'vacuum',
  'reindex', 'cluster', 'refresh', 'lock', 'import', 'export', 'attach', 'detach', 'install', 'load', 'checkpoint', 'call', 'do',
  'copy', 'set', 'reset', 'pragma', 'use', 'security',
]);
const OBJECT_MODIFIERS = new Set(['or', 'replace', 'temp', 'temporary', 'unique', 'unlogged', 'materialized', 'if', 'not', 'exists', 'global', 'local', 'persistent']);

/**
 * The statement kind (`INSERT`, `CREATE TABLE`, …) when the SQL is a write or a server command by its
 * leading keyword, or by a data-modifying statement after a `WITH` list; undefined for anything else.
 * Read from tokens, so it also works on text DuckDB cannot bind.
 */
export function writeStatementKind(sql: string): string | undefined {
  const toks = [...sqlTokens(sql)];
  const first = toks[0];
  if (!first || first.kind !== 'ident') return undefined;
  if (first.value === 'with') {
    let depth = 0;
    for (const t of toks) {
      if (t.value === '(') depth++;
      else if (t.value === ')') depth--;
      else if (depth === 0 && t.kind === 'ident' && ['insert', 'update', 'delete', 'merge'].includes(t.value)) return t.value.toUpperCase();
    }
    return undefined;
  }
  if (!WRITE_VERBS.has(first.value)) return undefined;
  if (first.value === 'create' || first.value === 'drop' || first.value === 'alter') {
    const object = toks.slice(1).find((t) => t.kind === 'ident' && !OBJECT_MODIFIERS.has(t.value));
    if (object) return `${first.value} ${object.value}`.toUpperCase();
  }
  return first.value.toUpperCase();
}

function refused(kind: StatementType, prefix = ''): StatementRefused {
  return new StatementRefused(`only SELECT queries are allowed (got ${prefix}a ${StatementType[kind] ?? kind} statement)`);
}

/**
 * `EXPLAIN`, then `ANALYZE`/`ANALYSE` and/or `VERBOSE`, or a parenthesized option list, then the statement.
 * Returns the statement's text; null when the prefix is not one of those shapes.
 */
export function splitExplain(sql: string): { analyze: boolean; inner: string } | null {
  const toks = sqlTokens(sql);
  const first = toks.next().value;
  if (!first || first.kind !== 'ident' || first.value !== 'explain') return null;
  let analyze = false;
  for (;;) {
    const t = toks.next().value;
    if (!t) return null;
    if (t.kind === 'ident' && (t.value === 'analyze' || t.value === 'analyse')) analyze = true;
    else if (t.kind === 'ident' && t.value === 'verbose') continue;
    else if (t.kind === 'punct' && t.value === '(') {
      // options such as (ANALYZE, FORMAT json): only ANALYZE changes what runs
      let depth = 1;
      while (depth > 0) {
        const o = toks.next().value;
        if (!o) return null;
        if (o.value === '(') depth++;
        else if (o.value === ')') depth--;
        else if (o.kind === 'ident' && (o.value === 'analyze' || o.value === 'analyse')) analyze = true;
      }
    } else return { analyze, inner: sql.slice(t.start) };
  }
}
