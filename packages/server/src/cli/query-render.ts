/**
 * `sirius query` output from the server's JSON answer: an aligned table or CSV. Cells follow the server's
 * JSON rules (timestamps in ISO-8601 with nanoseconds, big integers exact), shown without JSON quoting;
 * NULL is an empty cell.
 *
 * @example
 *   toAligned(answer) // 'level  n\n-----  -\n    1  2\n(1 row)\n'
 */
import type { JsonAnswer } from './query-http.js';

/** DuckDB's numeric SQL types, and Arrow's names for when the server had no SQL type at hand */
const NUMERIC = /^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|FLOAT|DOUBLE|REAL|DECIMAL(\(.*\))?|U?Int\d*|Float\d*|Decimal.*)$/i;

export function toCsv(answer: JsonAnswer): string {
  const esc = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const cols = stringColumns(answer);
  const lines = [answer.columns.map((c) => esc(c.name)).join(',')];
  const rows = cols[0]?.length ?? 0;
  for (let r = 0; r < rows; r++) lines.push(cols.map((c) => esc(c[r]!)).join(','));
  return `${lines.join('\n')}\n`;
}

export function toAligned(answer: JsonAnswer): string {
  const names = answer.columns.map((c) => c.name);
  const cols = stringColumns(answer).map((c) => c.map((s) => s.replace(/\n/g, '\\n')));
  const rows = cols[0]?.length ?? 0;
  const widths = names.map((n, i) => Math.max(n.length, ...cols[i]!.map((s) => s.length)));
  const numeric = answer.columns.map((c) => NUMERIC.test(c.type.trim()));
  const cell = (s: string, i: number) => (numeric[i] ? s.padStart(widths[i]!) : s.padEnd(widths[i]!));
  const lines = [names.map(cell).join('  ').trimEnd(), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (let r = 0; r < rows; r++) lines.push(cols.map((c, i) => cell(c[r]!, i)).join('  ').trimEnd());
  lines.push(`(${rows} row${rows === 1 ? '' : 's'})`);
  return `${lines.join('\n')}\n`;
}

/** each column's cells as display strings: JSON strings unquoted, null empty, anything else as written */
export function stringColumns(answer: JsonAnswer): string[][] {
  const cols: string[][] = answer.columns.map(() => []);
  for (const row of rowValues(answer.rowsText, answer.columns.length)) {
    row.forEach((j, c) => cols[c]!.push(j === 'null' ? '' : j.startsWith('"') ? (JSON.parse(j) as string) : j));
  }
  return cols;
}

/**
 * The JSON text of each value of each row of `[{"a":1,"b":"x"},…]`, by position. Rows are read by position,
 * not parsed into objects, because two columns may share a name (`SELECT 1 AS a, 2 AS a`).
 */
function* rowValues(text: string, width: number): Generator<string[]> {
  let i = 0;
  const expect = (ch: string) => {
    if (text[i] !== ch) throw new Error(`malformed rows from the server at ${i}: want ${ch}`);
    i++;
  };
  expect('[');
  if (text[i] === ']') return;
  for (;;) {
    expect('{');
    const row: string[] = [];
    for (let c = 0; c < width; c++) {
      if (c > 0) expect(',');
      i = endOfValue(text, i); // the key
      expect(':');
      const start = i;
      i = endOfValue(text, i);
      row.push(text.slice(start, i));
    }
    expect('}');
    yield row;
    if (text[i] === ']') return;
    expect(',');
  }
}

/** index just past the JSON value starting at `i` (the server writes no whitespace) */
function endOfValue(text: string, i: number): number {
  let depth = 0;
  for (let j = i; j < text.length; j++) {
    const ch = text[j];
    if (ch === '"') {
      for (j++; j < text.length && text[j] !== '"'; j++) if (text[j] === '\\') j++;
      if (depth === 0) return j + 1;
    } else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') {
      if (depth === 0) return j;
      if (--depth === 0) return j + 1;
    } else if (ch === ',' && depth === 0) return j;
  }
  if (depth > 0) throw new Error('malformed rows from the server: unterminated value');
  return text.length;
}
