/**
 * Turns a PostgreSQL catalog query into DuckDB SQL answered from the gateway's own catalog tables: each
 * `pg_catalog.pg_class`, `information_schema.columns`, … becomes a CTE of rows describing the Sirius views,
 * and the PostgreSQL-only syntax clients send with them (`OPERATOR(pg_catalog.~)`, `COLLATE`, `::regclass`,
 * `format_type()`, `pg_get_userbyid()`, …) becomes its DuckDB equivalent. Works on tokens, not a parse
 * tree: what it does not know passes through unchanged, and a query DuckDB still rejects gets the empty
 * result the runner falls back to.
 *
 * @example
 *   catalogToDuckDb(`SELECT relname FROM pg_catalog.pg_class WHERE relname OPERATOR(pg_catalog.~) '^(x)$'`, ctx)
 *   // WITH "__sirius_pg_catalog_pg_class" AS (…) SELECT relname FROM "__sirius_pg_catalog_pg_class" WHERE relname ~ '(?s).*(?:^(x)$).*'
 */
import { catalogTableSql, cteName, isCatalogTable, TYPE_INFO, type CatalogTableContext } from './catalog-tables.js';
import { quoteString } from './parameters.js';
import { lexSql, type Token } from './sql-lexer.js';

const NULL_TEXT = 'CAST(NULL AS VARCHAR)';
/** functions describing objects the Sirius catalog does not have (defaults, comments, view and rule text) */
const NULL_FUNCS = new Set([
  'pg_get_expr', 'col_description', 'obj_description', 'shobj_description', 'pg_get_viewdef', 'pg_get_constraintdef', 'pg_get_indexdef',
  'pg_get_ruledef', 'pg_get_triggerdef', 'pg_get_partkeydef', 'pg_get_functiondef', 'pg_get_serial_sequence', 'pg_get_statisticsobjdef_columns',
]);
const TRUE_FUNCS = new Set([
  'pg_table_is_visible', 'pg_type_is_visible', 'pg_function_is_visible', 'has_table_privilege', 'has_schema_privilege',
  'has_column_privilege', 'has_database_privilege', 'has_any_column_privilege', 'pg_has_role',
]);
const ZERO_FUNCS = new Set(['pg_relation_size', 'pg_total_relation_size', 'pg_table_size', 'pg_indexes_size']);
const OID_TYPES = new Set(['regclass', 'regtype', 'regproc', 'regprocedure', 'regnamespace', 'regrole', 'regoper', 'regoperator', 'oid', 'xid', 'cid']);
const TEXT_TYPES = new Set(['name', 'char', 'bpchar', 'text', 'int2vector', 'oidvector', 'pg_node_tree', 'aclitem']);

const FROM_ENDS = new Set(['where', 'group', 'order', 'limit', 'having', 'union', 'except', 'intersect', 'window', 'offset', 'select', 'on', 'using', 'returning']);
/** set-returning functions: in FROM, their alias names the column too */
const SET_FUNCS = new Set(['generate_series', 'unnest', 'generate_subscripts']);
/** scalar functions PostgreSQL lets a FROM list use as a one-row relation */
const SCALAR_FROM_FUNCS = new Set(['string_to_array', 'regexp_split_to_array', 'current_schemas']);

export function catalogToDuckDb(sql: string, ctx: CatalogTableContext): string {
  const toks = lexSql(sql).filter((t) => t.kind !== 'comment');
  const used = new Set<string>();
  const name = (t: Token | undefined) => (t && (t.kind === 'word' || t.kind === 'quoted') ? t.value : undefined);
  const useTable = (qualified: string) => {
    used.add(qualified);
    return `"${cteName(qualified)}"`;
  };

  /** the index of the `)` closing the `(` at `open` */
  const closing = (open: number): number => {
    let depth = 0;
    for (let j = open; j < toks.length; j++) {
      if (toks[j]!.text === '(') depth++;
      else if (toks[j]!.text === ')' && --depth === 0) return j;
    }
    return -1;
  };

  /** per open parenthesis: whether the tokens are in a FROM list */
  const inFrom: boolean[] = [false];
  /** SQL for tokens [from, to), rewritten */
  const emit = (from: number, to: number): string => {
    let out = '';
    let k = from;
    while (k < to) {
      const t = toks[k]!;
      const gap = k > from ? sql.slice(toks[k - 1]!.end, t.start) : '';
      if (t.text === '(') inFrom.push(false);
      else if (t.text === ')' && inFrom.length > 1) inFrom.pop();
      else if (t.kind === 'word' && (t.value === 'from' || t.value === 'join')) inFrom[inFrom.length - 1] = true;
      else if (t.kind === 'word' && FROM_ENDS.has(t.value)) inFrom[inFrom.length - 1] = false;
      const step = rewriteAt(k, to);
      out += gap + step.text;
      k = step.next;
    }
    return out;
  };

  const rewriteAt = (k: number, to: number): { text: string; next: number } => {
    const t = toks[k]!;
    const prev = toks[k - 1];
    // `pg_catalog.` before a function name is dropped, so that name is not a member access
    const afterDot = prev?.text === '.' && name(toks[k - 2]) !== 'pg_catalog';
    // schema-qualified catalog table: pg_catalog.pg_class, information_schema.columns
    const schema = name(t);
    if ((schema === 'pg_catalog' || schema === 'information_schema') && !afterDot && toks[k + 1]?.text === '.' && k + 2 < to) {
      const rel = name(toks[k + 2]);
      if (rel && toks[k + 3]?.text !== '(' && isCatalogTable(`${schema}.${rel}`)) return { text: useTable(`${schema}.${rel}`), next: k + 3 };
      if (schema === 'pg_catalog' && toks[k + 3]?.text === '(') return { text: '', next: k + 2 }; // pg_catalog.func( → func(
    }
    // bare pg_* catalog table
    if (t.kind === 'word' && !afterDot && t.value.startsWith('pg_') && toks[k + 1]?.text !== '(' && isCatalogTable(`pg_catalog.${t.value}`)) {
      return { text: useTable(`pg_catalog.${t.value}`), next: k + 1 };
    }
    // PostgreSQL's `user` is current_user
    if (t.kind === 'word' && t.value === 'user' && !afterDot && prev?.value !== 'as' && toks[k + 1]?.text !== '(' && toks[k + 1]?.text !== '.') {
      return { text: quoteString(ctx.user), next: k + 1 };
    }
    // OPERATOR(pg_catalog.~) → ~
    if (t.value === 'operator' && toks[k + 1]?.text === '(') {
      const end = closing(k + 1);
      if (end > 0 && end < to) {
        const op = toks.slice(k + 2, end).filter((x) => x.kind === 'operator');
        if (op.length === 1) return /^!?~\*?$/.test(op[0]!.text) ? regexOperator(end, op[0]!.text, to) : { text: op[0]!.text, next: end + 1 };
      }
    }
    // COLLATE x / COLLATE pg_catalog.x: DuckDB knows none of PostgreSQL's collations
    if (t.kind === 'word' && t.value === 'collate' && name(toks[k + 1])) {
      return { text: '', next: toks[k + 2]?.text === '.' && name(toks[k + 3]) ? k + 4 : k + 2 };
    }
    if (t.kind === 'operator' && /^!?~\*?$/.test(t.text)) return regexOperator(k, t.text, to);
    // casts to PostgreSQL-only types
    if (t.text === '::') {
      let j = k + 1;
      if (name(toks[j]) === 'pg_catalog' && toks[j + 1]?.text === '.') j += 2;
      const type = name(toks[j]);
      if (type && toks[j + 1]?.text !== '[') {
        if (OID_TYPES.has(type)) return { text: '::BIGINT', next: j + 1 };
        if (TEXT_TYPES.has(type)) return { text: '::VARCHAR', next: j + 1 };
        if (j > k + 1) return { text: `::${toks[j]!.text}`, next: j + 1 };
      }
    }
    // CAST(x AS pg_catalog.regclass)
    if (t.kind === 'word' && t.value === 'as' && prev && toks[k + 1]) {
      let j = k + 1;
      if (name(toks[j]) === 'pg_catalog' && toks[j + 1]?.text === '.') j += 2;
      const type = name(toks[j]);
      if (type && toks[j + 1]?.text === ')' && (OID_TYPES.has(type) || TEXT_TYPES.has(type))) {
        return { text: OID_TYPES.has(type) ? 'AS BIGINT' : 'AS VARCHAR', next: j + 1 };
      }
    }
    // 'public.log_entries'::regclass → the relation's oid
    if (t.kind === 'string' && toks[k + 1]?.text === '::') {
      let j = k + 2;
      if (name(toks[j]) === 'pg_catalog' && toks[j + 1]?.text === '.') j += 2;
      if (name(toks[j]) === 'regclass') {
        const rel = t.value.split('.').pop()!.replace(/^"|"$/g, '');
        return { text: `(SELECT oid FROM ${useTable('pg_catalog.pg_class')} WHERE relname = ${quoteString(rel)})`, next: j + 1 };
      }
    }
    // function calls
    if (t.kind === 'word' && !afterDot && toks[k + 1]?.text === '(') {
      const end = closing(k + 1);
      if (end > 0 && end < to) {
        inFrom.push(false);
        const args = splitArgs(k + 2, end).map(([a, b]) => emit(a, b));
        inFrom.pop();
        const f = t.value;
        let text: string | undefined;
        if (NULL_FUNCS.has(f)) text = NULL_TEXT;
        else if (TRUE_FUNCS.has(f)) text = 'true';
        else if (ZERO_FUNCS.has(f)) text = 'CAST(0 AS BIGINT)';
        else if (f === 'pg_get_userbyid') text = quoteString(ctx.user);
        else if (f === 'pg_encoding_to_char') text = `'UTF8'`;
        else if (f === 'json_build_object') text = `json_object(${args.join(',')})`;
        else if (f === 'format_type' && args.length >= 1) text = formatType(args[0]!);
        else if (f === 'quote_ident' && args.length === 1) {
          const a = `(${args[0]})`;
          text = `(CASE WHEN regexp_full_match(${a}, '[a-z_][a-z0-9_$]*') THEN ${a} ELSE '"' || replace(${a}, '"', '""') || '"' END)`;
        } else if (f === 'parse_ident' && toks[k + 2]?.kind === 'string' && (end === k + 3 || toks[k + 3]?.text === ',')) {
          const parts = parseIdent(toks[k + 2]!.value);
          text = parts ? `[${parts.map(quoteString).join(', ')}]` : `error(${quoteString(`string is not a valid identifier: "${toks[k + 2]!.value}"`)})`;
        } else if (f === 'array_length' && args.length === 2 && args[1]!.trim() === '1') text = `(CASE WHEN len(${args[0]}) > 0 THEN len(${args[0]}) END)`;
        else if (f === 'array_lower' && args.length === 2) text = `(CASE WHEN len(${args[0]}) > 0 THEN 1 END)`;
        else if (f === 'array_upper' && args.length === 2) text = `(CASE WHEN len(${args[0]}) > 0 THEN len(${args[0]}) END)`;
        if (text !== undefined) return { text, next: end + 1 };
        const call = `${t.text}(${args.join(',')})`;
        // a function in a FROM list is a one-column relation named by its alias, as in PostgreSQL
        const alias = toks[end + 1]?.value === 'as' ? toks[end + 2] : toks[end + 1];
        if (inFrom[inFrom.length - 1] && (prev?.text === ',' || prev?.value === 'from' || prev?.value === 'join') && alias?.kind === 'word' && !FROM_ENDS.has(alias.value) && alias.value !== 'on') {
          const next = (toks[end + 1]?.value === 'as' ? end + 3 : end + 2);
          const paren = toks[next]?.text === '(';
          if (!paren && SET_FUNCS.has(f)) return { text: `${call} AS ${alias.text}(${alias.text})`, next };
          if (!paren && SCALAR_FROM_FUNCS.has(f)) return { text: `(SELECT ${call} AS ${alias.text}) AS ${alias.text}`, next };
        }
        return { text: call, next: end + 1 };
      }
    }
    return { text: t.text, next: k + 1 };
  };

  /** PostgreSQL's `~` searches, DuckDB's matches the whole string: wrap a literal pattern so both agree */
  const regexOperator = (k: number, op: string, to: number): { text: string; next: number } => {
    const pattern = toks[k + 1];
    const negated = op.startsWith('!');
    const insensitive = op.endsWith('*');
    if (pattern?.kind !== 'string' || k + 1 >= to) return { text: negated ? '!~' : '~', next: k + 1 };
    return { text: `${negated ? '!~' : '~'} ${quoteString(`(?s${insensitive ? 'i' : ''}).*(?:${pattern.value}).*`)}`, next: k + 2 };
  };

  const splitArgs = (from: number, to: number): [number, number][] => {
    if (from >= to) return [];
    const out: [number, number][] = [];
    let depth = 0;
    let start = from;
    for (let j = from; j < to; j++) {
      const x = toks[j]!.text;
      if (x === '(' || x === '[') depth++;
      else if (x === ')' || x === ']') depth--;
      else if (x === ',' && depth === 0) {
        out.push([start, j]);
        start = j + 1;
      }
    }
    out.push([start, to]);
    return out;
  };

  if (toks.length === 0) return sql;
  let body = emit(0, toks.length);
  if (used.size === 0) return body;
  const ctes = [...used].map((q) => `"${cteName(q)}" AS (${catalogTableSql(q, ctx)})`).join(',\n');
  // the query's own WITH list goes on after ours
  const m = /^\s*with(\s+recursive)?\b/i.exec(body);
  if (m) return `WITH${m[1] ?? ''} ${ctes},\n${body.slice(m[0].length)}`;
  body = body.trimStart();
  return `WITH ${ctes}\n${body}`;
}

/**
 * PostgreSQL's parse_ident: a dotted name split into its parts, quoted parts kept as written (with `""`
 * unescaped), unquoted parts lower-cased; undefined when the text is not a valid qualified name.
 */
export function parseIdent(text: string): string[] | undefined {
  const parts: string[] = [];
  let i = 0;
  const n = text.length;
  const skip = () => {
    while (i < n && /\s/.test(text[i]!)) i++;
  };
  for (;;) {
    skip();
    if (text[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        if (i >= n) return undefined;
        if (text[i] === '"') {
          if (text[i + 1] === '"') (v += '"'), (i += 2);
          else {
            i++;
            break;
          }
        } else v += text[i++];
      }
      if (v === '') return undefined;
      parts.push(v);
    } else {
      const m = /^[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/.exec(text.slice(i));
      if (!m) return undefined;
      parts.push(m[0].toLowerCase());
      i += m[0].length;
    }
    skip();
    if (i >= n) return parts;
    if (text[i] !== '.') return undefined;
    i++;
  }
}

function formatType(oidExpr: string): string {
  const cases = Object.entries(TYPE_INFO).map(([oid, t]) => `WHEN ${oid} THEN '${t.display}'`).join(' ');
  return `(CASE (${oidExpr}) ${cases} END)`;
}
