/**
 * DuckDB's own parse tree of a query, as JSON (`json_serialize_sql`), and the way back to SQL text
 * (`json_deserialize_sql`). The time modules read and edit queries through it rather than with regular
 * expressions, so quoting, comments and nesting are DuckDB's business. Both functions are pure: they
 * read no file and run nothing, so they are safe on a sandbox before or after it is sealed.
 *
 * @example
 *   const ast = await parseSqlAst(conn, 'SELECT 1 FROM t WHERE time > now()');
 *   ast?.statements[0].node.where_clause.type // 'COMPARE_GREATERTHAN'
 */
import type { DuckDBConnection } from '@duckdb/node-api';

/** one node of DuckDB's JSON parse tree (expressions, query nodes, table refs) */
export type AstNode = { [key: string]: unknown };

export interface SqlAst {
  error: boolean;
  statements: { node: AstNode }[];
}

/** The parse tree, or undefined when DuckDB cannot serialize the statement (not a SELECT, or bad SQL). */
export async function parseSqlAst(conn: DuckDBConnection, sql: string): Promise<SqlAst | undefined> {
  const reader = await conn.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR)', [sql]);
  const text = reader.getRows()[0]?.[0];
  if (typeof text !== 'string') return undefined;
  let inexact = false;
  const ast = JSON.parse(text, (key, v) => {
    if (typeof v !== 'number' || Number.isSafeInteger(v) || !Number.isInteger(v)) return v;
    // an absent position is 2^64 - 1, which a JS number cannot hold: drop it (DuckDB reads it as absent)
    if (key === 'query_location') return undefined;
    inexact = true; // a literal too large for a JS number: this tree cannot be rendered back exactly
    return v;
  }) as SqlAst;
  if (inexact || ast.error || !Array.isArray(ast.statements)) return undefined;
  return ast;
}

const FLOAT_TYPES = new Set(['DOUBLE', 'FLOAT']);
const MARK = '\u0000float:';

/**
 * The tree as the JSON DuckDB reads back. A floating-point constant with an integral value (`1e6`) comes out of
 * JSON.parse as a plain integer, which DuckDB's deserializer refuses for a DOUBLE ("expected type 'double',
 * but got type: 'uint'"): such values are written with a fraction.
 */
function astJson(ast: SqlAst): string {
  const text = JSON.stringify(ast, function (this: { type?: { id?: unknown } }, key, v: unknown) {
    if (key === 'value' && typeof v === 'number' && Number.isInteger(v) && FLOAT_TYPES.has(String(this.type?.id))) return `${MARK}${v}`;
    return v;
  });
  return text.replace(/"\\u0000float:([^"]+)"/g, (_, n: string) => (/[.eE]/.test(n) ? n : `${n}.0`));
}

/** SQL text for a parse tree (DuckDB's own rendering: formatting and comments are not kept). */
export async function renderSqlAst(conn: DuckDBConnection, ast: SqlAst): Promise<string> {
  const reader = await conn.runAndReadAll('SELECT json_deserialize_sql($1::JSON)', [astJson(ast)]);
  return String(reader.getRows()[0]?.[0]);
}

export function isNode(v: unknown): v is AstNode {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** every object in the tree, depth first, parents before children */
export function* walkAst(v: unknown): Generator<AstNode> {
  if (Array.isArray(v)) {
    for (const x of v) yield* walkAst(x);
  } else if (isNode(v)) {
    yield v;
    for (const x of Object.values(v)) if (typeof x === 'object' && x !== null) yield* walkAst(x);
  }
}

/** the last part of a column reference (`l.time` → `time`), lower case; undefined for other nodes */
export function columnName(e: unknown): string | undefined {
  if (!isNode(e) || e.class !== 'COLUMN_REF') return undefined;
  const names = e.column_names as string[] | undefined;
  return names?.[names.length - 1]?.toLowerCase();
}

/** `CAST(child AS type)` as a tree node */
export function castNode(child: AstNode, typeId: string): AstNode {
  return {
    class: 'CAST',
    type: 'OPERATOR_CAST',
    alias: '',
    ...(child.query_location === undefined ? {} : { query_location: child.query_location }),
    child,
    cast_type: { id: typeId, type_info: null },
    try_cast: false,
  };
}
