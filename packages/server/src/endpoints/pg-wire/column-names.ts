/**
 * The names PostgreSQL gives a SELECT's result columns, read from the statement text: an alias when there
 * is one, else a column reference's name, a function call's name (`count`, `sum`), the type of a cast
 * constant (`int4`), `case`, or `?column?`. DuckDB names unnamed columns after their expression
 * (`count_star()`, `(1 + 1)`) and renames duplicates; drivers and tools written against PostgreSQL expect
 * its names, so the gateway uses these whenever the select list can be matched to the result (no `*`).
 *
 * @example
 *   pgColumnNames('SELECT count(*), level, 1 + 1, max(time) AS last FROM log_entries GROUP BY level')
 *   // ['count', 'level', '?column?', 'last']
 */
import { codeTokens, type Token } from './sql-lexer.js';

const END_OF_LIST = new Set(['from', 'where', 'group', 'order', 'limit', 'having', 'union', 'except', 'intersect', 'into', 'window', 'offset', 'fetch', 'qualify']);
/** words after which a trailing word is an operand, not an alias */
const OPERATOR_WORDS = new Set(['and', 'or', 'not', 'is', 'like', 'ilike', 'between', 'in', 'similar', 'then', 'else', 'when', 'distinct', 'from',
  'collate', 'zone', 'escape', 'any', 'all', 'some', 'exists', 'case', 'as', 'glob', 'to']);
/** words that end an expression rather than name it */
const NOT_ALIASES = new Set(['end', 'null', 'true', 'false', 'distinct', 'all', 'unknown']);
/** SQL-standard functions written without parentheses, named after themselves */
const BARE_FUNCTIONS = new Set(['current_timestamp', 'current_date', 'current_time', 'localtimestamp', 'localtime', 'current_user', 'session_user',
  'current_role', 'current_catalog', 'current_schema', 'user']);
/** PostgreSQL's own name for a type as written in a cast */
const TYPE_NAMES: Record<string, string> = {
  int: 'int4', integer: 'int4', int4: 'int4', bigint: 'int8', int8: 'int8', smallint: 'int2', int2: 'int2', real: 'float4', float4: 'float4',
  float: 'float8', float8: 'float8', double: 'float8', boolean: 'bool', bool: 'bool', varchar: 'varchar', character: 'bpchar', char: 'bpchar',
  text: 'text', numeric: 'numeric', decimal: 'numeric', date: 'date', time: 'time', timestamp: 'timestamp', timestamptz: 'timestamptz',
  interval: 'interval', json: 'json', jsonb: 'jsonb', uuid: 'uuid', bytea: 'bytea', name: 'name', oid: 'oid', regclass: 'regclass', regtype: 'regtype',
};

/** The result column names PostgreSQL would give; undefined when they cannot be read off the text (`*`, not a SELECT). */
export function pgColumnNames(sql: string): string[] | undefined {
  const toks = codeTokens(sql);
  const first = toks[0]?.value;
  if (first === 'values') return undefined;
  if (first !== 'select' && first !== 'with') return undefined;
  const items = selectItems(toks);
  if (!items) return undefined;
  const names: string[] = [];
  for (const item of items) {
    if (hasStar(item)) return undefined;
    names.push(itemName(item));
  }
  return names;
}

/** the tokens of each item in the first top-level select list; undefined when an item is empty or unclosed */
function selectItems(toks: Token[]): Token[][] | undefined {
  const items = selectListItems(toks);
  return items?.some((i) => i.length === 0) ? undefined : items;
}

/**
 * The tokens of each item of the first top-level select list, read from the text (empty items kept); undefined
 * when there is no SELECT or its `DISTINCT ON (` is not closed.
 */
export function selectListItems(toks: Token[]): Token[][] | undefined {
  let depth = 0;
  let k = 0;
  for (; k < toks.length; k++) {
    const t = toks[k]!;
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    else if (depth === 0 && t.value === 'select') break;
  }
  if (k >= toks.length) return undefined;
  k++;
  if (toks[k]?.value === 'distinct' || toks[k]?.value === 'all') {
    k++;
    if (toks[k]?.value === 'on' && toks[k + 1]?.text === '(') {
      const close = closing(toks, k + 1);
      if (close < 0) return undefined;
      k = close + 1;
    }
  }
  const items: Token[][] = [[]];
  depth = 0;
  for (; k < toks.length; k++) {
    const t = toks[k]!;
    if (t.text === '(' || t.text === '[') depth++;
    else if (t.text === ')' || t.text === ']') depth--;
    if (depth === 0 && ((t.kind === 'word' && END_OF_LIST.has(t.value)) || t.kind === 'semicolon')) break;
    if (depth === 0 && t.text === ',') items.push([]);
    else items[items.length - 1]!.push(t);
  }
  return items;
}

function closing(toks: readonly Token[], open: number): number {
  let depth = 0;
  for (let j = open; j < toks.length; j++) {
    const t = toks[j]!.text;
    if (t === '(' || t === '[') depth++;
    else if ((t === ')' || t === ']') && --depth === 0) return j;
  }
  return -1;
}

function hasStar(item: Token[]): boolean {
  if (item[0]?.text === '*') return true;
  for (let j = 0; j < item.length; j++) {
    const t = item[j]!;
    if (t.text === '*' && item[j - 1]?.text === '.') return true;
    if (t.kind === 'word' && t.value === 'columns' && item[j + 1]?.text === '(') return true;
  }
  return false;
}

const isName = (t: Token | undefined) => t !== undefined && (t.kind === 'word' || t.kind === 'quoted');

function itemName(item: Token[]): string {
  const last = item[item.length - 1]!;
  const prev = item[item.length - 2];
  if (isName(last) && prev?.value === 'as' && prev.kind === 'word') return last.value;
  if (isName(last) && prev && !NOT_ALIASES.has(last.value) && prev.kind !== 'operator' && prev.text !== '.' && prev.text !== '(' && prev.text !== ','
    && !(prev.kind === 'word' && OPERATOR_WORDS.has(prev.value)) && !(last.kind === 'word' && last.value === 'zone')) {
    return last.value;
  }
  return exprName(item);
}

function exprName(e: Token[]): string {
  if (e.length === 0) return '?column?';
  // a trailing cast: the operand's name, else the type's
  let depth = 0;
  for (let j = e.length - 1; j > 0; j--) {
    const t = e[j]!;
    if (t.text === ')' || t.text === ']') depth++;
    else if (t.text === '(' || t.text === '[') depth--;
    else if (depth === 0 && t.text === '::') {
      const inner = exprName(e.slice(0, j));
      return inner !== '?column?' ? inner : typeName(e.slice(j + 1));
    }
  }
  const head = e[0]!;
  if (e.length === 1) {
    if (head.kind === 'quoted') return head.value;
    if (head.kind !== 'word') return '?column?';
    if (head.value === 'true' || head.value === 'false') return 'bool';
    if (head.value === 'null') return '?column?';
    return head.value;
  }
  // a qualified column: its last part
  if (e.every((t, i) => (i % 2 === 0 ? isName(t) : t.text === '.')) && e.length % 2 === 1) return e[e.length - 1]!.value;
  if (head.kind === 'word' && head.value === 'case' && e[e.length - 1]!.value === 'end') return 'case';
  if (head.kind === 'word' && head.value === 'array' && e[1]?.text === '[' && closing(e, 1) === e.length - 1) return 'array';
  // a typed literal: DATE '…', INTERVAL '…'
  if (e.length === 2 && head.kind === 'word' && e[1]!.kind === 'string') return typeName([head]);
  if (head.text === '(') {
    const close = closing(e, 0);
    if (close === e.length - 1) {
      const inner = e.slice(1, -1);
      if (inner[0]?.value === 'select') return selectItems(inner)?.[0] ? itemName(selectItems(inner)![0]!) : '?column?';
      return exprName(inner);
    }
    return '?column?';
  }
  // a function call, possibly qualified, possibly with FILTER / OVER / WITHIN GROUP after it
  let j = 0;
  while (j + 2 < e.length && e[j + 1]!.text === '.' && isName(e[j + 2])) j += 2;
  if (isName(e[j]) && e[j + 1]?.text === '(') {
    const fn = e[j]!.value;
    let end = closing(e, j + 1);
    if (end < 0) return '?column?';
    for (;;) {
      const next = e[end + 1];
      if (next?.value === 'filter' && e[end + 2]?.text === '(') end = closing(e, end + 2);
      else if (next?.value === 'within' && e[end + 2]?.value === 'group' && e[end + 3]?.text === '(') end = closing(e, end + 3);
      else if (next?.value === 'over' && e[end + 2]?.text === '(') end = closing(e, end + 2);
      else if (next?.value === 'over' && isName(e[end + 2])) end += 2;
      else break;
      if (end < 0) return '?column?';
    }
    if (end !== e.length - 1) return '?column?';
    if (fn === 'cast' || fn === 'try_cast') {
      const args = e.slice(j + 2, closing(e, j + 1));
      let d = 0;
      for (let a = 0; a < args.length; a++) {
        const t = args[a]!;
        if (t.text === '(') d++;
        else if (t.text === ')') d--;
        else if (d === 0 && t.value === 'as' && t.kind === 'word') {
          const inner = exprName(args.slice(0, a));
          return inner !== '?column?' ? inner : typeName(args.slice(a + 1));
        }
      }
      return '?column?';
    }
    return fn;
  }
  if (head.kind === 'word' && BARE_FUNCTIONS.has(head.value) && e.length === 1) return head.value;
  return '?column?';
}

function typeName(type: Token[]): string {
  const word = type.find((t) => t.kind === 'word');
  if (!word) return '?column?';
  if (word.value === 'double') return 'float8';
  if (word.value === 'timestamp' && type.some((t) => t.value === 'zone')) return 'timestamptz';
  if (word.value === 'character' && type.some((t) => t.value === 'varying')) return 'varchar';
  const base = TYPE_NAMES[word.value] ?? word.value;
  return type.some((t) => t.text === '[') ? `_${base}` : base;
}
