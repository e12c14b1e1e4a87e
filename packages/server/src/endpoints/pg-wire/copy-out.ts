/**
 * `COPY (SELECT …) TO STDOUT` and `COPY view [(columns)] TO STDOUT`: what psql's `\copy … to` and
 * psycopg's `copy_expert` / `cursor.copy()` send. Formats: text (the default: tab-separated, `\N` for
 * NULL, backslash escapes), CSV (`WITH (FORMAT csv, HEADER)` or the old `WITH CSV HEADER`) and binary
 * (PGCOPY, for columns that have a binary form). Nothing can be copied in (`COPY … FROM` is a write) or to
 * a file or program on the server.
 *
 * @example
 *   const plan = parseCopy(codeTokens(`COPY (SELECT 1) TO STDOUT WITH (FORMAT csv, HEADER)`), sql);
 *   // { query: { start: 6, end: 14 }, options: { format: 'csv', header: true, delimiter: ',', … } }
 */
import type { Token } from './sql-lexer.js';
import { StatementError } from './statement-runner.js';
import type { RowSource } from './row-source.js';
import type { ColumnEncoder } from './value-format.js';

export interface CopyOptions {
  format: 'text' | 'csv' | 'binary';
  header: boolean;
  delimiter: string;
  null: string;
  quote: string;
  escape: string;
  /** FORCE_QUOTE: column names, or '*' for all */
  forceQuote: string[] | '*';
}

export interface CopyPlan {
  /** the SELECT to run, as text */
  select: string;
  /** offset of `select` in the statement, for error positions (-1 when generated from a table name) */
  selectStart: number;
  options: CopyOptions;
}

const word = (t: Token | undefined) => (t && (t.kind === 'word' || t.kind === 'quoted') ? t.value : undefined);
const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;

export function parseCopy(toks: Token[], sql: string): CopyPlan {
  let k = 1;
  let select: string;
  let selectStart = -1;
  if (toks[k]?.text === '(') {
    const close = closing(toks, k);
    if (close < 0) throw new StatementError('42601', 'syntax error in COPY: unbalanced parentheses', toks[k]!.start);
    select = sql.slice(toks[k + 1]!.start, toks[close - 1]!.end);
    selectStart = toks[k + 1]!.start;
    k = close + 1;
  } else {
    const parts: string[] = [];
    while (word(toks[k]) !== undefined) {
      parts.push(quoteIdent(word(toks[k])!));
      if (toks[k + 1]?.text !== '.') break;
      k += 2;
    }
    if (parts.length === 0) throw new StatementError('42601', 'syntax error in COPY: expected a table name or (query)', toks[k]?.start);
    k++;
    let columns = '*';
    if (toks[k]?.text === '(') {
      const close = closing(toks, k);
      const names = toks.slice(k + 1, close).filter((t) => t.text !== ',').map((t) => word(t));
      if (close < 0 || names.some((n) => n === undefined)) throw new StatementError('42601', 'syntax error in COPY: expected a column list', toks[k]!.start);
      columns = names.map((n) => quoteIdent(n!)).join(', ');
      k = close + 1;
    }
    select = `SELECT ${columns} FROM ${parts.join('.')}`;
  }
  const direction = toks[k]?.value;
  if (direction === 'from') throw new StatementError('25006', 'cannot execute COPY FROM in a read-only transaction: Sirius serves SQL for reading only');
  if (direction !== 'to') throw new StatementError('42601', 'syntax error in COPY: expected TO STDOUT', toks[k]?.start);
  k++;
  if (toks[k]?.value !== 'stdout') {
    throw new StatementError('42501', 'COPY to a file or program is not allowed here: use COPY … TO STDOUT (psql\'s \\copy writes the file on the client side)', toks[k]?.start);
  }
  k++;
  const options: CopyOptions = { format: 'text', header: false, delimiter: '\t', null: '\\N', quote: '"', escape: '"', forceQuote: [] };
  let delimiterSet = false;
  let nullSet = false;
  if (toks[k]?.value === 'with') k++;
  const stringArg = (j: number, what: string): string => {
    const t = toks[j];
    if (t?.kind !== 'string') throw new StatementError('42601', `syntax error in COPY: ${what} takes a quoted string`, t?.start);
    return t.value;
  };
  if (toks[k]?.text === '(') {
    const close = closing(toks, k);
    if (close < 0) throw new StatementError('42601', 'syntax error in COPY options: unbalanced parentheses', toks[k]!.start);
    let j = k + 1;
    while (j < close) {
      const opt = word(toks[j]);
      if (opt === undefined) throw new StatementError('42601', `syntax error in COPY options at "${toks[j]!.text}"`, toks[j]!.start);
      j++;
      const valueToks: Token[] = [];
      let depth = 0;
      while (j < close && !(depth === 0 && toks[j]!.text === ',')) {
        if (toks[j]!.text === '(') depth++;
        else if (toks[j]!.text === ')') depth--;
        valueToks.push(toks[j++]!);
      }
      j++;
      const v = valueToks[0];
      const text = v?.kind === 'string' || v?.kind === 'quoted' ? v.value : v?.value;
      switch (opt) {
        case 'format':
          if (text !== 'text' && text !== 'csv' && text !== 'binary') throw new StatementError('22023', `COPY format "${text ?? ''}" not recognized (text, csv or binary)`, v?.start);
          options.format = text;
          break;
        case 'header':
          if (text === 'match') throw new StatementError('0A000', 'HEADER MATCH is only for COPY FROM');
          options.header = text === undefined || ['true', 'on', '1'].includes(text);
          break;
        case 'delimiter': options.delimiter = oneChar(text, 'COPY delimiter'); delimiterSet = true; break;
        case 'null': options.null = text ?? ''; nullSet = true; break;
        case 'quote': options.quote = oneChar(text, 'COPY quote'); break;
        case 'escape': options.escape = oneChar(text, 'COPY escape'); break;
        case 'force_quote':
          options.forceQuote = v?.text === '*' ? '*' : valueToks.filter((t) => word(t) !== undefined).map((t) => word(t)!);
          break;
        case 'encoding':
          if (!/^(utf[-_]?8|unicode)$/i.test(text ?? '')) throw new StatementError('22023', `COPY encoding "${text}" is not available: the gateway speaks UTF8`);
          break;
        case 'freeze': case 'force_not_null': case 'force_null': case 'default':
          throw new StatementError('0A000', `COPY option ${opt} is only for COPY FROM`);
        default:
          throw new StatementError('42601', `option "${opt}" not recognized`, toks[j - 1]?.start);
      }
    }
    k = close + 1;
  } else {
    // the pre-9.0 option syntax psql's \copy still produces: [BINARY] [DELIMITER [AS] 'x'] [NULL [AS] 'x'] [CSV [HEADER] [QUOTE …] …]
    while (k < toks.length) {
      const w = word(toks[k]);
      if (w === 'binary') (options.format = 'binary'), k++;
      else if (w === 'csv') (options.format = 'csv'), k++;
      else if (w === 'header') (options.header = true), k++;
      else if (w === 'delimiter' || w === 'null' || w === 'quote' || w === 'escape') {
        k++;
        if (toks[k]?.value === 'as') k++;
        const s = stringArg(k, w.toUpperCase());
        k++;
        if (w === 'delimiter') (options.delimiter = oneChar(s, 'COPY delimiter')), (delimiterSet = true);
        else if (w === 'null') (options.null = s), (nullSet = true);
        else if (w === 'quote') options.quote = oneChar(s, 'COPY quote');
        else options.escape = oneChar(s, 'COPY escape');
      } else if (w === 'force' && toks[k + 1]?.value === 'quote') {
        k += 2;
        if (toks[k]?.text === '*') (options.forceQuote = '*'), k++;
        else {
          const names: string[] = [];
          while (word(toks[k]) !== undefined) {
            names.push(word(toks[k])!);
            k++;
            if (toks[k]?.text !== ',') break;
            k++;
          }
          options.forceQuote = names;
        }
      } else break;
    }
  }
  if (k < toks.length) throw new StatementError('42601', `syntax error in COPY at or near "${toks[k]!.text}"`, toks[k]!.start);
  if (options.format === 'csv') {
    if (!delimiterSet) options.delimiter = ',';
    if (!nullSet) options.null = '';
  }
  return { select, selectStart, options };
}

function oneChar(s: string | undefined, what: string): string {
  if (s === undefined || [...s].length !== 1) throw new StatementError('22023', `${what} must be a single one-byte character`);
  return s;
}

function closing(toks: readonly Token[], open: number): number {
  let depth = 0;
  for (let j = open; j < toks.length; j++) {
    if (toks[j]!.text === '(') depth++;
    else if (toks[j]!.text === ')' && --depth === 0) return j;
  }
  return -1;
}

/** What a COPY sends: one CopyData per row (plus header and trailer), in the chosen format. */
export interface CopyWriter {
  /** per-column format codes for CopyOutResponse */
  columnFormats: number[];
  overallFormat: 0 | 1;
  header(): Buffer | undefined;
  row(r: number): Buffer;
  trailer(): Buffer | undefined;
}

export function copyWriter(rows: RowSource, options: CopyOptions): CopyWriter {
  const n = rows.columns.length;
  if (options.format === 'binary') {
    const encoders = rows.encoders(rows.columns.map(() => 'binary'));
    const lossy = encoders.findIndex((e, i) => e.format !== 'binary' || e.type.oid !== rows.columns[i]!.type.oid);
    if (lossy >= 0) {
      throw new StatementError('0A000', `COPY BINARY cannot send column "${rows.columns[lossy]!.name}" (${rows.columns[lossy]!.type.name}) in binary: use FORMAT text or csv`);
    }
    return {
      columnFormats: encoders.map(() => 1),
      overallFormat: 1,
      header: () => Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]),
      row: (r) => binaryRow(encoders, r),
      trailer: () => Buffer.from([0xff, 0xff]),
    };
  }
  const encoders = rows.encoders(rows.columns.map(() => 'text'));
  const csv = options.format === 'csv';
  const forced = rows.columns.map((c) => options.forceQuote === '*' || options.forceQuote.includes(c.name));
  const field = csv ? (s: string, force: boolean) => csvField(s, options, force) : (s: string) => textField(s, options.delimiter);
  const nullText = options.null;
  return {
    columnFormats: encoders.map(() => 0),
    overallFormat: 0,
    header: () => (options.header ? Buffer.from(`${rows.columns.map((c) => field(c.name, false)).join(options.delimiter)}\n`, 'utf8') : undefined),
    row(r) {
      let line = '';
      for (let c = 0; c < n; c++) {
        if (c > 0) line += options.delimiter;
        const cell = encoders[c]!.encode(r);
        line += cell === null ? nullText : field(cell.toString('utf8'), forced[c]!);
      }
      return Buffer.from(`${line}\n`, 'utf8');
    },
    trailer: () => undefined,
  };
}

const TEXT_SPECIAL = /[\\\n\r\t\b\f\v]/;

function textField(s: string, delimiter: string): string {
  if (!TEXT_SPECIAL.test(s) && !s.includes(delimiter)) return s;
  let out = '';
  for (const ch of s) {
    switch (ch) {
      case '\\': out += '\\\\'; break;
      case '\n': out += '\\n'; break;
      case '\r': out += '\\r'; break;
      case '\t': out += '\\t'; break;
      case '\b': out += '\\b'; break;
      case '\f': out += '\\f'; break;
      case '\v': out += '\\v'; break;
      default: out += ch === delimiter ? `\\${ch}` : ch;
    }
  }
  return out;
}

function csvField(s: string, o: CopyOptions, force: boolean): string {
  // an empty string must not read back as NULL, nor may a value equal to the NULL marker
  const quote = force || s === o.null || s.includes(o.delimiter) || s.includes(o.quote) || s.includes('\n') || s.includes('\r') || s === '\\.';
  if (!quote) return s;
  let out = o.quote;
  for (const ch of s) out += ch === o.quote || ch === o.escape ? o.escape + ch : ch;
  return out + o.quote;
}

function binaryRow(encoders: readonly ColumnEncoder[], r: number): Buffer {
  const cells = encoders.map((e) => e.encode(r));
  let size = 2;
  for (const c of cells) size += 4 + (c ? c.length : 0);
  const out = Buffer.allocUnsafe(size);
  out.writeInt16BE(cells.length, 0);
  let at = 2;
  for (const c of cells) {
    if (c === null) {
      out.writeInt32BE(-1, at);
      at += 4;
    } else {
      out.writeInt32BE(c.length, at);
      c.copy(out, at + 4);
      at += 4 + c.length;
    }
  }
  return out;
}
