/**
 * Finds the views a query references and rewrites `view_instance('<view>', '<id>')` calls into plain
 * per-query view names, so DuckDB sees ordinary relations we define per connection.
 *
 * A small lexer rather than a SQL parser: it skips string literals, quoted identifiers and comments, and
 * only needs identifiers and one call shape. Over-matching a global view name (say, a column called
 * `streams`) costs one extra resolution, never a wrong answer. The rewrite keeps a map of edits so that an
 * error position DuckDB reports in the rewritten text maps back to the text the user wrote.
 */

/** Global views a query may name directly. */
export const GLOBAL_VIEWS = ['log_entries', 'measures', 'log_stats', 'otel_spans', 'processes', 'streams', 'blocks'] as const;
export type GlobalView = (typeof GLOBAL_VIEWS)[number];

/** Views available through `view_instance(view, instance)`. */
export const INSTANCE_VIEWS = ['thread_spans', 'async_events', 'log_entries', 'measures', 'process_spans'] as const;

/** `process_spans(process_id, kind)`: the kinds of span it selects */
export const PROCESS_SPAN_KINDS = ['thread', 'async', 'both'] as const;

export interface InstanceRef {
  view: string;
  instance: string;
  /** the name the call is rewritten to */
  alias: string;
}

export interface TraceChunksRef {
  processId: string;
  /** time bounds as written (ISO-8601, a duration back from now, or now) */
  begin: string;
  end: string;
  alias: string;
}

export interface ScannedSql {
  globals: Set<GlobalView>;
  instances: InstanceRef[];
  /** `perfetto_trace_chunks(process_id, begin, end)` calls, each rewritten to its alias (a table the engine fills) */
  traceChunks: TraceChunksRef[];
  /** the SQL with every `view_instance(...)` call replaced by its alias */
  sql: string;
  /** maps a 0-based offset in `sql` back to a 0-based offset in the original text */
  originalOffset(offset: number): number;
}

export class SqlScanError extends Error {
  override readonly name = 'SqlScanError';
  constructor(
    message: string,
    /** 0-based offset in the original SQL */
    readonly offset: number,
  ) {
    super(message);
  }
}

export interface SqlToken {
  kind: 'ident' | 'string' | 'punct' | 'other';
  text: string;
  /** for identifiers: lower-cased unquoted name; for strings: the unescaped value */
  value: string;
  start: number;
  end: number;
}

/** The lexer's tokens, comments and whitespace dropped (shared with the statement gate). */
export function* sqlTokens(sql: string): Generator<SqlToken> {
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < n && sql[i] !== '\n') i++;
    } else if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2);
      i = close < 0 ? n : close + 2;
    } else if (c === "'" || c === '"') {
      const start = i;
      let value = '';
      i++;
      for (;;) {
        if (i >= n) break;
        if (sql[i] === c) {
          if (sql[i + 1] === c) {
            value += c;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += sql[i++];
      }
      if (c === "'") yield { kind: 'string', text: sql.slice(start, i), value, start, end: i };
      else yield { kind: 'ident', text: sql.slice(start, i), value, start, end: i };
    } else if (c === '$' && /[A-Za-z_$]/.test(sql[i + 1] ?? '') && /^\$[A-Za-z_]*\$/.test(sql.slice(i))) {
      // dollar-quoted string: $tag$ … $tag$
      const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(i))![0];
      const close = sql.indexOf(tag, i + tag.length);
      const end = close < 0 ? n : close + tag.length;
      yield { kind: 'string', text: sql.slice(i, end), value: sql.slice(i + tag.length, close < 0 ? n : close), start: i, end };
      i = end;
    } else if (/[A-Za-z_]/.test(c)) {
      const start = i;
      while (i < n && /[A-Za-z0-9_$]/.test(sql[i]!)) i++;
      const text = sql.slice(start, i);
      yield { kind: 'ident', text, value: text.toLowerCase(), start, end: i };
    } else if ('(),.'.includes(c)) {
      yield { kind: 'punct', text: c, value: c, start: i, end: i + 1 };
      i++;
    } else {
      yield { kind: 'other', text: c, value: c, start: i, end: i + 1 };
      i++;
    }
  }
}

/**
 * @example
 *   const s = scanSql(`SELECT * FROM view_instance('thread_spans', 'abc') WHERE duration > 1000`);
 *   s.sql       // SELECT * FROM "__vi_0_thread_spans" WHERE duration > 1000
 *   s.instances // [{ view: 'thread_spans', instance: 'abc', alias: '__vi_0_thread_spans' }]
 */
export function scanSql(sql: string): ScannedSql {
  const toks = [...sqlTokens(sql)];
  const globals = new Set<GlobalView>();
  const instances: InstanceRef[] = [];
  const traceChunks: TraceChunksRef[] = [];
  const edits: { start: number; end: number; replacement: string }[] = [];
  const aliases = new Map<string, string>();
  for (let k = 0; k < toks.length; k++) {
    const t = toks[k]!;
    if (t.kind !== 'ident') continue;
    const prev = toks[k - 1];
    // a qualified name such as `x.streams` is a column or another schema's table, not our view
    if (prev?.kind === 'punct' && prev.value === '.') continue;
    if (t.value === 'view_instance' && toks[k + 1]?.value === '(') {
      const [a, comma, b, close] = [toks[k + 2], toks[k + 3], toks[k + 4], toks[k + 5]];
      if (a?.kind !== 'string' || comma?.value !== ',' || b?.kind !== 'string' || close?.value !== ')') {
        throw new SqlScanError(
          `view_instance takes two string literals: view_instance('thread_spans' | 'async_events' | 'log_entries' | 'measures', '<id>')`,
          t.start,
        );
      }
      const view = a.value.toLowerCase();
      if (!(INSTANCE_VIEWS as readonly string[]).includes(view)) {
        throw new SqlScanError(`view_instance: unknown view '${a.value}' (want one of ${INSTANCE_VIEWS.join(', ')})`, a.start);
      }
      if (b.value.length === 0) throw new SqlScanError(`view_instance: the instance id is empty`, b.start);
      const key = `${view}\u0000${b.value}`;
      let alias = aliases.get(key);
      if (!alias) {
        alias = `__vi_${aliases.size}_${view}`;
        aliases.set(key, alias);
        instances.push({ view, instance: b.value, alias });
      }
      edits.push({ start: t.start, end: close.end, replacement: `"${alias}"` });
      k += 5;
      continue;
    }
    if (t.value === 'process_spans' && toks[k + 1]?.value === '(') {
      // process_spans(pid, kind): the per-process view, filtered to the kind asked for
      const [a, comma, b, close] = [toks[k + 2], toks[k + 3], toks[k + 4], toks[k + 5]];
      if (a?.kind !== 'string' || comma?.value !== ',' || b?.kind !== 'string' || close?.value !== ')') {
        throw new SqlScanError(`process_spans takes two string literals: process_spans('<process_id>', 'thread' | 'async' | 'both')`, t.start);
      }
      if (a.value.length === 0) throw new SqlScanError(`process_spans: the process id is empty`, a.start);
      const kind = b.value.toLowerCase();
      if (!(PROCESS_SPAN_KINDS as readonly string[]).includes(kind)) {
        throw new SqlScanError(`process_spans: unknown kind '${b.value}' (want one of ${PROCESS_SPAN_KINDS.join(', ')})`, b.start);
      }
      const key = `process_spans\u0000${a.value}`;
      let alias = aliases.get(key);
      if (!alias) {
        alias = `__vi_${aliases.size}_process_spans`;
        aliases.set(key, alias);
        instances.push({ view: 'process_spans', instance: a.value, alias });
      }
      const filter = kind === 'both' ? '' : ` WHERE kind = '${kind}'`;
      edits.push({ start: t.start, end: close.end, replacement: `(SELECT * FROM "${alias}"${filter})` });
      k += 5;
      continue;
    }
    if (t.value === 'perfetto_trace_chunks' && toks[k + 1]?.value === '(') {
      const args = [toks[k + 2], toks[k + 4], toks[k + 6]];
      const seps = [toks[k + 3], toks[k + 5]];
      const close = toks[k + 7];
      if (args.some((a) => a?.kind !== 'string') || seps.some((c) => c?.value !== ',') || close?.value !== ')') {
        throw new SqlScanError(`perfetto_trace_chunks takes three string literals: perfetto_trace_chunks('<process_id>', '<begin>', '<end>')`, t.start);
      }
      const [pid, begin, end] = args.map((a) => a!.value) as [string, string, string];
      const alias = `__ptc_${traceChunks.length}`;
      traceChunks.push({ processId: pid, begin, end, alias });
      edits.push({ start: t.start, end: close!.end, replacement: `"${alias}"` });
      k += 7;
      continue;
    }
    if ((GLOBAL_VIEWS as readonly string[]).includes(t.value)) globals.add(t.value as GlobalView);
  }
  let out = '';
  let last = 0;
  const map: { at: number; delta: number }[] = []; // from rewritten offset `at` onwards, original = offset + delta
  let delta = 0;
  for (const e of edits) {
    out += sql.slice(last, e.start);
    const outStart = out.length;
    out += e.replacement;
    map.push({ at: outStart, delta: e.start - outStart }); // inside a replacement: point at the call's start
    delta = e.end - out.length;
    map.push({ at: out.length, delta });
    last = e.end;
  }
  out += sql.slice(last);
  return {
    globals,
    instances,
    traceChunks,
    sql: out,
    originalOffset(offset: number): number {
      let d = 0;
      for (const m of map) {
        if (offset < m.at) break;
        d = m.delta;
      }
      // inside a replacement, report the start of the view_instance call
      const inside = map.findIndex((m, i) => i % 2 === 0 && offset >= m.at && offset < (map[i + 1]?.at ?? 0));
      if (inside >= 0) return map[inside]!.at + map[inside]!.delta;
      return offset + d;
    },
  };
}
