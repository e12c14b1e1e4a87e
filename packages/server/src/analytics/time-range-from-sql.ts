/**
 * The time range a query bounds itself to, read from its own predicates on the views' time columns, so
 * that a query with no explicit range (Grafana's `$__timeFilter`, `time >= now() - INTERVAL '7 days'`)
 * reads the partitions it asks for. Works on DuckDB's parse tree (`json_serialize_sql`), never on text.
 *
 * Rules (docs/sql.md, "Time range"): every SELECT that reads a lakehouse view (log_entries, measures,
 * log_stats, thread_spans, async_events, directly or through view_instance) must bound that view's time
 * column with top-level AND-ed predicates in its own WHERE: `=`, `<`, `<=`, `>`, `>=`, `BETWEEN`, either side,
 * against constants (literals with or without a zone, casts, `now()`/`current_timestamp` ± intervals,
 * `to_timestamp(…)`, `date_trunc(…)`). The range is the hull of what every such SELECT allows; a side
 * that some SELECT leaves open stays open (undefined). OR, NOT, subqueries, parameters and anything else
 * add no bound, so the range is never narrower than the query. The metadata views (processes, streams,
 * blocks) follow the range; their own bounds (start_time, insert_time, begin_time) count when given.
 *
 * @example
 *   await timeRangeFromSql(conn, `SELECT count(*) FROM log_entries WHERE time BETWEEN '2024-05-01' AND '2024-05-02'`)
 *   // { begin: 1714521600000000000n, end: 1714608000000000001n }
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { parseTimeArg } from '@sirius/client';
import { GLOBAL_VIEWS, INSTANCE_VIEWS } from './sql-scan.js';
import { castNode, columnName, isNode, parseSqlAst, renderSqlAst, walkAst, type AstNode, type SqlAst } from './time-sql-ast.js';

/** [begin, end) in ns since the epoch; a missing side is not bounded by the query */
export interface DerivedRange {
  begin?: bigint;
  end?: bigint;
}

/** the column each view's range is about (the lakehouse filters partitions and rows on it) */
const LAKEHOUSE_TIME: Readonly<Record<string, string>> = {
  log_entries: 'time', measures: 'time', log_stats: 'time_bin', thread_spans: 'begin', async_events: 'time', otel_spans: 'time',
  process_spans: 'begin',
};
/** metadata views follow the range; a bound on these columns narrows it */
const METADATA_TIME: Readonly<Record<string, string>> = { processes: 'start_time', streams: 'insert_time', blocks: 'begin_time' };
/**
 * Every view the engine reads from the lakehouse. One missing from LAKEHOUSE_TIME (a view added later)
 * has no column that can bound it, so a query reading it derives nothing: never a range too narrow.
 */
const LAKEHOUSE_VIEWS: ReadonlySet<string> = new Set([...GLOBAL_VIEWS, ...INSTANCE_VIEWS].filter((v) => !METADATA_TIME[v]));
const lakehouseTime = (view: string): string | undefined => (LAKEHOUSE_VIEWS.has(view) ? (LAKEHOUSE_TIME[view] ?? '') : undefined);

/** functions a bound may call: pure, no I/O, nothing per row */
const CONSTANT_FUNCTIONS = new Set([
  'now', 'get_current_timestamp', 'current_timestamp', 'transaction_timestamp', 'current_date', 'today', 'to_timestamp',
  'make_timestamp', 'make_timestamptz', 'make_timestamp_ns', 'make_date', 'epoch_ms', 'date_trunc', 'time_bucket', 'date_bin',
  'strptime', 'timezone', '+', '-', '*', '/', '//', 'trunc', 'floor', 'ceil', 'round',
  'to_years', 'to_months', 'to_weeks', 'to_days', 'to_hours', 'to_minutes', 'to_seconds', 'to_milliseconds', 'to_microseconds',
  'to_centuries', 'to_decades', 'to_millennia',
]);
const CONSTANT_COLUMNS = new Set(['current_timestamp', 'current_date', 'localtimestamp', 'transaction_timestamp']);

const SECOND = 1_000_000_000n;
const DAY = 86_400n * SECOND;
/** a column cast to a coarser type matches a wider span of instants than the bound says */
const CAST_SLACK: Readonly<Record<string, bigint>> = {
  TIMESTAMP_NS: 0n, TIMESTAMP: SECOND, 'TIMESTAMP WITH TIME ZONE': SECOND, TIMESTAMP_MS: SECOND, TIMESTAMP_S: SECOND, DATE: DAY,
};

const MENTIONS_TIME = new RegExp(`\\b(?:${[...new Set([...Object.values(LAKEHOUSE_TIME), ...Object.values(METADATA_TIME)])].join('|')})\\b`, 'i');

interface TableRef {
  /** the name the query's columns qualify it by */
  alias: string;
  timeColumn: string;
  required: boolean;
}

/** a bound awaiting evaluation: `column <op> expr` with the column on the left */
interface PendingBound {
  op: 'ge' | 'gt' | 'le' | 'lt' | 'eq';
  expr: AstNode;
  slack: bigint;
}

interface TableBounds {
  ref: TableRef;
  bounds: PendingBound[];
}

function isConstant(e: unknown): boolean {
  if (!isNode(e)) return false;
  switch (e.class) {
    case 'CONSTANT': return true;
    case 'CAST': return isConstant(e.child);
    case 'COLUMN_REF': {
      const names = e.column_names as string[];
      return names.length === 1 && CONSTANT_COLUMNS.has(names[0]!.toLowerCase());
    }
    case 'FUNCTION': {
      if (!CONSTANT_FUNCTIONS.has(String(e.function_name).toLowerCase())) return false;
      if (e.filter || e.distinct || (e.order_bys as { orders?: unknown[] } | undefined)?.orders?.length) return false;
      return ((e.children as unknown[]) ?? []).every(isConstant);
    }
    default: return false;
  }
}

/** the table's time column in `e` (maybe under a cast), with the slack that cast adds; undefined if not */
function timeColumnOf(e: unknown, ref: TableRef): { slack: bigint } | undefined {
  if (!isNode(e)) return undefined;
  if (e.class === 'CAST') {
    const slack = CAST_SLACK[String((e.cast_type as AstNode | undefined)?.id)];
    if (slack === undefined) return undefined;
    const inner = timeColumnOf(e.child, ref);
    return inner && { slack: inner.slack + slack };
  }
  if (columnName(e) !== ref.timeColumn) return undefined;
  const names = (e.column_names as string[]).map((n) => n.toLowerCase());
  // unqualified, or qualified by this table's alias (schema-qualified refs name it last but one)
  if (names.length > 1 && names[names.length - 2] !== ref.alias) return undefined;
  return { slack: 0n };
}

const FLIP: Record<PendingBound['op'], PendingBound['op']> = { ge: 'le', gt: 'lt', le: 'ge', lt: 'gt', eq: 'eq' };
const COMPARE_OPS: Record<string, PendingBound['op']> = {
  COMPARE_GREATERTHANOREQUALTO: 'ge', COMPARE_GREATERTHAN: 'gt', COMPARE_LESSTHANOREQUALTO: 'le', COMPARE_LESSTHAN: 'lt', COMPARE_EQUAL: 'eq',
};

function conjuncts(where: unknown): AstNode[] {
  if (!isNode(where)) return [];
  if (where.class === 'CONJUNCTION' && where.type === 'CONJUNCTION_AND') return (where.children as unknown[]).flatMap(conjuncts);
  return [where];
}

function boundsFor(ref: TableRef, where: unknown): PendingBound[] {
  const out: PendingBound[] = [];
  for (const c of conjuncts(where)) {
    if (c.class === 'COMPARISON' && COMPARE_OPS[String(c.type)]) {
      const op = COMPARE_OPS[String(c.type)]!;
      const left = timeColumnOf(c.left, ref);
      const right = timeColumnOf(c.right, ref);
      if (left && isConstant(c.right)) out.push({ op, expr: c.right as AstNode, slack: left.slack });
      else if (right && isConstant(c.left)) out.push({ op: FLIP[op], expr: c.left as AstNode, slack: right.slack });
    } else if (c.class === 'BETWEEN' && c.type === 'COMPARE_BETWEEN') {
      const col = timeColumnOf(c.input, ref);
      if (col && isConstant(c.lower) && isConstant(c.upper)) {
        out.push({ op: 'ge', expr: c.lower as AstNode, slack: col.slack }, { op: 'le', expr: c.upper as AstNode, slack: col.slack });
      }
    }
  }
  return out;
}

/** the views a FROM clause reads directly (joins included; subqueries are SELECTs of their own) */
function tablesOf(from: unknown, out: TableRef[] = []): TableRef[] {
  if (!isNode(from)) return out;
  if (from.type === 'JOIN') {
    tablesOf(from.left, out);
    tablesOf(from.right, out);
  } else if (from.type === 'BASE_TABLE') {
    const name = String(from.table_name).toLowerCase();
    const alias = String(from.alias || from.table_name).toLowerCase();
    const lakeTime = lakehouseTime(name);
    if (lakeTime !== undefined) out.push({ alias, timeColumn: lakeTime, required: true });
    else if (METADATA_TIME[name]) out.push({ alias, timeColumn: METADATA_TIME[name]!, required: false });
  } else if (from.type === 'TABLE_FUNCTION') {
    const fn = from.function as AstNode;
    const arg = (fn.children as AstNode[] | undefined)?.[0]?.value as { value?: unknown } | undefined;
    if (String(fn.function_name).toLowerCase() === 'process_spans') {
      out.push({ alias: String(from.alias || 'process_spans').toLowerCase(), timeColumn: 'begin', required: true });
    } else if (String(fn.function_name).toLowerCase() === 'view_instance' && typeof arg?.value === 'string') {
      const view = arg.value.toLowerCase();
      const timeColumn = lakehouseTime(view);
      // view_instance(…) without an alias is named like the function: its columns are used unqualified
      if (timeColumn !== undefined) out.push({ alias: String(from.alias || 'view_instance').toLowerCase(), timeColumn, required: true });
    }
  }
  return out;
}

/** how many lakehouse views the query reads anywhere, for a check that none was missed */
function countLakehouseReads(ast: SqlAst): number {
  let n = 0;
  for (const node of walkAst(ast)) {
    if (node.type === 'BASE_TABLE' && lakehouseTime(String(node.table_name).toLowerCase()) !== undefined) n++;
    if (node.type === 'TABLE_FUNCTION' && ['view_instance', 'process_spans'].includes(String((node.function as AstNode)?.function_name).toLowerCase())) n++;
  }
  return n;
}

/** `SELECT epoch_ns(NULL)` as a tree, the shape each evaluation fills in */
let selectTemplate: SqlAst | undefined;

/** an ISO-8601 text DuckDB and parseTimeArg read alike (UTC unless it says otherwise): the common case, Grafana's */
const PLAIN_ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})?)?$/;

function textValue(e: AstNode): string | undefined {
  const value = e.value as { is_null?: boolean; type?: { id?: string }; value?: unknown } | undefined;
  return e.class === 'CONSTANT' && value?.type?.id === 'VARCHAR' && typeof value.value === 'string' ? value.value : undefined;
}

/** Evaluates every bound expression to ns in one SELECT; undefined when DuckDB cannot (the query will say why). */
async function evaluate(conn: DuckDBConnection, exprs: AstNode[]): Promise<bigint[] | undefined> {
  // plain ISO literals need no round trip through DuckDB
  const texts = exprs.map(textValue);
  if (texts.every((t) => t !== undefined && PLAIN_ISO.test(t))) return texts.map((t) => parseTimeArg(t!));
  selectTemplate ??= await parseSqlAst(conn, 'SELECT epoch_ns(NULL)');
  if (!selectTemplate) return undefined;
  const template = structuredClone(selectTemplate);
  const select = template.statements[0]!.node;
  const call = (select.select_list as AstNode[])[0]!;
  select.select_list = exprs.map((e) => ({ ...call, children: [castNode(e, 'TIMESTAMP_NS')] }));
  try {
    const sql = await renderSqlAst(conn, template);
    const reader = await conn.runAndReadAll(sql);
    const row = reader.getRows()[0] ?? [];
    const out: bigint[] = [];
    for (const v of row) {
      if (typeof v !== 'bigint') return undefined; // NULL: no bound
      out.push(v);
    }
    return out;
  } catch {
    return undefined;
  }
}

/** Derives the range `sql` bounds itself to (see the file comment). `{}` when it bounds nothing. */
export async function timeRangeFromSql(conn: DuckDBConnection, sql: string): Promise<DerivedRange> {
  // no time column named anywhere: nothing to parse
  if (!MENTIONS_TIME.test(sql)) return {};
  let ast: SqlAst | undefined;
  try {
    ast = await parseSqlAst(conn, sql);
  } catch {
    return {};
  }
  if (!ast || ast.statements.length !== 1) return {};
  const tables: TableBounds[] = [];
  for (const node of walkAst(ast)) {
    if (node.type !== 'SELECT_NODE') continue;
    for (const ref of tablesOf(node.from_table)) tables.push({ ref, bounds: boundsFor(ref, node.where_clause) });
  }
  const required = tables.filter((t) => t.ref.required);
  if (required.length !== countLakehouseReads(ast)) return {};
  const exprs = tables.flatMap((t) => t.bounds.map((b) => b.expr));
  const values = exprs.length > 0 ? await evaluate(conn, exprs) : [];
  if (!values) return {};
  let i = 0;
  const ranges = tables.map((t) => {
    let lo: bigint | undefined;
    let hi: bigint | undefined;
    for (const b of t.bounds) {
      const v = values[i++]!;
      const lower = b.op === 'gt' ? v + 1n : v;
      const upper = b.op === 'lt' ? v : v + 1n;
      if (b.op !== 'lt' && b.op !== 'le') lo = max(lo, lower - b.slack);
      if (b.op !== 'gt' && b.op !== 'ge') hi = min(hi, upper + b.slack);
    }
    return { required: t.ref.required, lo, hi };
  });
  // the hull: a side some view leaves open is open; the metadata views count only in a query that reads no lakehouse view
  const out: DerivedRange = {};
  const lakehouse = ranges.filter((r) => r.required);
  const metadata = ranges.filter((r) => !r.required);
  for (const side of ['lo', 'hi'] as const) {
    const pick = side === 'lo' ? minAll : maxAll;
    let value: bigint | undefined;
    if (lakehouse.length > 0) value = lakehouse.some((r) => r[side] === undefined) ? undefined : pick(lakehouse.map((r) => r[side]!));
    else if (metadata.length > 0 && metadata.every((r) => r[side] !== undefined)) value = pick(metadata.map((r) => r[side]!));
    if (value !== undefined) out[side === 'lo' ? 'begin' : 'end'] = value;
  }
  return out;
}

function max(a: bigint | undefined, b: bigint): bigint {
  return a === undefined || b > a ? b : a;
}
function min(a: bigint | undefined, b: bigint): bigint {
  return a === undefined || b < a ? b : a;
}
function minAll(xs: bigint[]): bigint {
  return xs.reduce((a, b) => (b < a ? b : a));
}
function maxAll(xs: bigint[]): bigint {
  return xs.reduce((a, b) => (b > a ? b : a));
}
