/**
 * What BI tools and drivers ask a "PostgreSQL" server before their real query: `version()`,
 * `current_schema()`, `current_setting(…)`, and `pg_catalog` / `information_schema` reads. Calls to
 * the PostgreSQL-only functions are rewritten into literals before the SQL reaches DuckDB; catalog reads
 * are answered from tables describing the Sirius views (catalog-dialect.ts), and those DuckDB still cannot
 * answer get an empty result with the columns the select list names, so the client's session goes on
 * instead of failing at connect.
 *
 * @example
 *   rewriteCatalogCalls('SELECT version()', ctx).sql // SELECT 'PostgreSQL 15.0 (Sirius) …' AS "version"
 */
import { codeTokens, lexSql, type Token } from './sql-lexer.js';
import { quoteString } from './parameters.js';
import { selectListItems } from './column-names.js';
import { VERSION_STRING } from './session-settings.js';
import type { CatalogTableContext } from './catalog-tables.js';

export interface CatalogContext extends CatalogTableContext {
  user: string;
  database: string;
  pid: number;
  setting(name: string): string | undefined;
  /**
   * pg_cancel_backend / pg_terminate_backend: true when the session exists and was signalled, false when
   * there is no such session; throws when the caller may not signal it
   */
  signalBackend?(pid: number, how: 'cancel' | 'terminate'): boolean;
}

export interface RewrittenSql {
  sql: string;
  originalOffset(offset: number): number;
}

const CATALOG_WORDS = new Set(['pg_catalog', 'information_schema', 'regclass', 'regtype', 'regnamespace', 'regproc']);

/** true when the statement reads PostgreSQL's catalogs */
export function isCatalogQuery(sql: string): boolean {
  return codeTokens(sql).some((t) => t.kind === 'word' && (CATALOG_WORDS.has(t.value) || /^pg_[a-z_]+$/.test(t.value)));
}

const NO_PAREN_FUNCS = new Set(['current_user', 'session_user', 'current_role', 'current_catalog']);

/** Replaces PostgreSQL-only function calls with literals; keeps a map for error positions. */
export function rewriteCatalogCalls(sql: string, ctx: CatalogContext): RewrittenSql {
  const toks = lexSql(sql).filter((t) => t.kind !== 'comment');
  const edits: { start: number; end: number; text: string }[] = [];
  for (let k = 0; k < toks.length; k++) {
    const t = toks[k]!;
    if (t.kind !== 'word') continue;
    const prev = toks[k - 1];
    const qualified = prev?.text === '.' && toks[k - 2]?.value === 'pg_catalog';
    if (prev?.text === '.' && !qualified) continue;
    const start = qualified ? toks[k - 2]!.start : t.start;
    let literal: string | undefined;
    let end = t.end;
    let next = k + 1;
    if (toks[k + 1]?.text === '(') {
      const args: Token[] = [];
      let j = k + 2;
      while (j < toks.length && toks[j]!.text !== ')') args.push(toks[j++]!);
      if (j >= toks.length) continue;
      const noArgs = args.length === 0;
      const oneString = args.length === 1 && args[0]!.kind === 'string';
      if (t.value === 'version' && noArgs) literal = VERSION_STRING;
      else if (t.value === 'current_schema' && noArgs) literal = 'public';
      else if (t.value === 'current_database' && noArgs) literal = ctx.database;
      else if (t.value === 'pg_backend_pid' && noArgs) literal = String(ctx.pid);
      else if (t.value === 'current_setting' && (oneString || (args.length === 3 && args[0]!.kind === 'string'))) {
        literal = ctx.setting(args[0]!.value) ?? '';
      }
      else if ((t.value === 'pg_cancel_backend' || t.value === 'pg_terminate_backend') && ctx.signalBackend && (args.length === 1 || args.length === 2)) {
        const how = t.value === 'pg_cancel_backend' ? 'cancel' : 'terminate';
        // an integer parameter is bound as `(n)`
        if (args[0]!.text === '(' && args.length === 2 && toks[j + 1]?.text === ')') {
          args.shift();
          j++;
        }
        const a = args[0]!;
        let sqlLiteral: string | undefined;
        if (a.value === 'null') sqlLiteral = 'CAST(NULL AS BOOLEAN)';
        // a constant pid (a bound parameter arrives as a number or a quoted string)
        else if ((a.kind === 'number' || a.kind === 'string') && /^\s*\d+\s*$/.test(a.value)) sqlLiteral = ctx.signalBackend(Number(a.value), how) ? 'TRUE' : 'FALSE';
        if (sqlLiteral !== undefined) {
          edits.push({ start, end: toks[j]!.end, text: `${sqlLiteral}${bareItemAt(toks, qualified ? k - 3 : k - 1, j + 1) ? ` AS "${t.value}"` : ''}` });
        }
        continue;
      }
      if (literal === undefined) continue;
      end = toks[j]!.end;
      next = j + 1;
    } else if (NO_PAREN_FUNCS.has(t.value)) {
      literal = t.value === 'current_catalog' ? ctx.database : ctx.user;
    } else if (t.value === 'current_schema' && toks[k - 1]?.value !== 'as') {
      literal = 'public';
    } else {
      continue;
    }
    // a bare select item is named after the function, as PostgreSQL names it
    edits.push({ start, end, text: `${quoteString(literal)}${bareItemAt(toks, qualified ? k - 3 : k - 1, next) ? ` AS "${t.value}"` : ''}` });
  }
  return applyEdits(sql, edits);
}

/** whether the expression between tokens `before` and `after` is a whole select item */
function bareItemAt(toks: readonly Token[], before: number, after: number): boolean {
  const b = toks[before];
  const a = toks[after];
  return (b?.value === 'select' || b?.text === ',') && (!a || a.text === ',' || a.value === 'from' || a.kind === 'semicolon');
}

export function applyEdits(sql: string, edits: readonly { start: number; end: number; text: string }[]): RewrittenSql {
  const map: { origStart: number; newStart: number; newEnd: number; shiftAfter: number }[] = [];
  let out = '';
  let last = 0;
  for (const e of edits) {
    out += sql.slice(last, e.start);
    const newStart = out.length;
    out += e.text;
    last = e.end;
    map.push({ origStart: e.start, newStart, newEnd: out.length, shiftAfter: out.length - e.end });
  }
  out += sql.slice(last);
  return {
    sql: out,
    originalOffset(offset) {
      let shift = 0;
      for (const e of map) {
        if (offset < e.newStart) break;
        if (offset < e.newEnd) return e.origStart;
        shift = e.shiftAfter;
      }
      return offset - shift;
    },
  };
}

const NOT_ALIASES = new Set(['end', 'null', 'true', 'false', 'distinct', 'all']);

/** The column names a SELECT's top-level list would produce, read from the text (no types, no `*` expansion). */
export function selectListNames(sql: string): string[] {
  return (selectListItems(codeTokens(sql)) ?? []).filter((i) => i.length > 0).map(itemName);
}

function itemName(item: Token[]): string {
  const last = item[item.length - 1]!;
  const prev = item[item.length - 2];
  const nameOf = (t: Token) => (t.kind === 'quoted' ? t.value : t.value);
  if ((last.kind === 'word' || last.kind === 'quoted') && prev?.value === 'as') return nameOf(last);
  if (item.length === 1 && (last.kind === 'word' || last.kind === 'quoted')) return nameOf(last);
  if ((last.kind === 'word' || last.kind === 'quoted') && prev?.text === '.' && item.length === 3) return nameOf(last);
  if ((last.kind === 'word' || last.kind === 'quoted') && prev && prev.kind !== 'operator' && prev.text !== '.' && prev.text !== '(' && !NOT_ALIASES.has(last.value) && prev.value !== 'as') {
    return nameOf(last);
  }
  // a function call: its (unqualified) name
  let j = 0;
  while (j + 2 < item.length && item[j + 1]!.text === '.') j += 2;
  if (item[j]?.kind === 'word' && item[j + 1]?.text === '(') return item[j]!.value;
  if (item[0]?.value === 'case') return 'case';
  return '?column?';
}
