/**
 * Comparisons between Sirius' time columns and zoned timestamps. The views keep time as TIMESTAMP_NS
 * (nanoseconds, read as UTC instants), and DuckDB refuses to compare TIMESTAMP_NS with TIMESTAMP WITH TIME
 * ZONE (`now()`, `current_timestamp`, `'…'::timestamptz`, `to_timestamp(…)`) without a cast. When a query
 * fails to bind for exactly that reason, the engine calls `castInstantComparisons`: in every comparison,
 * BETWEEN and IN whose one side is a time column (or another nanosecond timestamp), the other side is cast
 * to TIMESTAMP_NS. With the instance in UTC that cast is exact, and the column side is left bare, so
 * DuckDB still pushes the filter into the Parquet scan. Queries that bind as written are never rewritten.
 *
 * @example
 *   await castInstantComparisons(conn, `SELECT count(*) FROM log_entries WHERE time >= now() - INTERVAL 1 HOUR`)
 *   // 'SELECT count_star() FROM log_entries WHERE ("time" >= CAST((now() - …) AS TIMESTAMP_NS))'
 */
import type { DuckDBConnection, DuckDBPreparedStatement } from '@duckdb/node-api';
import { prepareReadOnly } from './statement-gate.js';
import { castNode, columnName, isNode, parseSqlAst, renderSqlAst, walkAst, type AstNode } from './time-sql-ast.js';

/** the nanosecond instant columns of the Sirius views (docs/sql.md) */
export const INSTANT_COLUMNS: ReadonlySet<string> = new Set([
  'time', 'begin', 'end', 'time_bin', 'start_time', 'insert_time', 'last_update_time', 'last_block_end_time', 'begin_time', 'end_time',
]);

/** DuckDB's binder message for a TIMESTAMP_NS compared with a TIMESTAMP WITH TIME ZONE */
export function isInstantMismatch(message: string): boolean {
  return /TIMESTAMP_NS and (type )?TIMESTAMP WITH TIME ZONE|TIMESTAMP WITH TIME ZONE and (type )?TIMESTAMP_NS/.test(message);
}

const NS_FUNCTIONS = new Set(['date_bin', 'make_timestamp_ns']);

/** a side already in nanoseconds: a time column, date_bin(…), or a cast to TIMESTAMP_NS */
function isNanosecondSide(e: unknown): boolean {
  if (!isNode(e)) return false;
  const col = columnName(e);
  if (col !== undefined) return INSTANT_COLUMNS.has(col);
  if (e.class === 'FUNCTION') return NS_FUNCTIONS.has(String(e.function_name).toLowerCase());
  if (e.class === 'CAST') return (e.cast_type as AstNode | undefined)?.id === 'TIMESTAMP_NS';
  return false;
}

/** a side DuckDB already casts implicitly: text and NULL literals */
function castsImplicitly(e: AstNode): boolean {
  if (e.class !== 'CONSTANT') return false;
  const value = e.value as { is_null?: boolean; type?: { id?: string } } | undefined;
  return value?.is_null === true || value?.type?.id === 'VARCHAR';
}

function toNs(e: unknown): AstNode | undefined {
  if (!isNode(e) || isNanosecondSide(e) || castsImplicitly(e)) return undefined;
  return castNode(e, 'TIMESTAMP_NS');
}

/** Casts the non-column sides of time comparisons to TIMESTAMP_NS; undefined when there is nothing to cast. */
export async function castInstantComparisons(conn: DuckDBConnection, sql: string): Promise<string | undefined> {
  const ast = await parseSqlAst(conn, sql);
  if (!ast || ast.statements.length !== 1) return undefined;
  let changed = 0;
  const replace = (node: AstNode, key: string) => {
    const cast = toNs(node[key]);
    if (cast) {
      node[key] = cast;
      changed++;
    }
  };
  for (const node of walkAst(ast)) {
    if (node.class === 'COMPARISON') {
      if (isNanosecondSide(node.left)) replace(node, 'right');
      else if (isNanosecondSide(node.right)) replace(node, 'left');
    } else if (node.class === 'BETWEEN') {
      if (isNanosecondSide(node.input)) {
        replace(node, 'lower');
        replace(node, 'upper');
      }
    } else if (node.class === 'OPERATOR' && (node.type === 'COMPARE_IN' || node.type === 'COMPARE_NOT_IN')) {
      const children = node.children as unknown[];
      if (isNanosecondSide(children[0])) {
        for (let i = 1; i < children.length; i++) {
          const cast = toNs(children[i]);
          if (cast) {
            children[i] = cast;
            changed++;
          }
        }
      }
    }
  }
  return changed > 0 ? renderSqlAst(conn, ast) : undefined;
}

/**
 * Prepares the query as written; when DuckDB refuses it for comparing a time column with a zoned
 * timestamp, prepares it again with those comparisons cast (see above). When the cast query fails for
 * another reason (DuckDB binds WHERE first, so a bad column elsewhere shows only then), that error is
 * reported without its excerpt: its position would point into DuckDB's rendering, not the user's text.
 */
export async function prepareWithInstants(conn: DuckDBConnection, sql: string): Promise<DuckDBPreparedStatement> {
  try {
    return await prepareReadOnly(conn, sql);
  } catch (err) {
    if (!isInstantMismatch((err as Error)?.message ?? '')) throw err;
    let rewritten: string | undefined;
    try {
      rewritten = await castInstantComparisons(conn, sql);
    } catch {
      throw err;
    }
    if (rewritten === undefined) throw err;
    try {
      return await prepareReadOnly(conn, rewritten);
    } catch (again) {
      const message = (again as Error)?.message ?? '';
      if (!(again instanceof Error) || again.constructor !== Error || isInstantMismatch(message)) throw err;
      throw new Error(message.replace(/\n*LINE \d+: [^\n]*\n *\^\s*$/, ''), { cause: again });
    }
  }
}
