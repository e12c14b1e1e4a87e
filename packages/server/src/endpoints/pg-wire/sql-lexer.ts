/**
 * A small SQL lexer for the gateway's own needs: splitting a simple-query string into statements,
 * finding `$n` parameter markers, reading `SET`/`SHOW` commands and a select list's column names. It
 * knows every way text can hide a `;` or a `$1` (string literals, `E'…'` escapes, dollar quotes, quoted
 * identifiers, comments) and nothing else about SQL.
 *
 * @example
 *   lexSql(`SELECT $1 -- a comment`).map((t) => t.kind) // ['word', 'param', 'comment']
 */

export type TokenKind = 'word' | 'quoted' | 'string' | 'param' | 'number' | 'comment' | 'semicolon' | 'punct' | 'operator';

export interface Token {
  kind: TokenKind;
  /** the source text of the token */
  text: string;
  /** words: lower-cased; quoted identifiers and strings: the unescaped value; params: the number as text */
  value: string;
  start: number;
  end: number;
}

export class SqlLexError extends Error {
  override readonly name = 'SqlLexError';
  constructor(
    message: string,
    /** 0-based offset in the SQL */
    readonly offset: number,
  ) {
    super(message);
  }
}

const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD_PART = /[A-Za-z0-9_$\u0080-\uffff]/;
const OPERATOR = /[+\-*/<>=~!@#%^&|`?:]/;

export function lexSql(sql: string): Token[] {
  const out: Token[] = [];
  const n = sql.length;
  let i = 0;
  const push = (kind: TokenKind, start: number, end: number, value: string) => out.push({ kind, text: sql.slice(start, end), value, start, end });
  while (i < n) {
    const c = sql[i]!;
    const start = i;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') {
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < n && sql[i] !== '\n') i++;
      push('comment', start, i, sql.slice(start + 2, i));
    } else if (c === '/' && sql[i + 1] === '*') {
      // block comments nest in PostgreSQL
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') (depth++, (i += 2));
        else if (sql[i] === '*' && sql[i + 1] === '/') (depth--, (i += 2));
        else i++;
      }
      if (depth > 0) throw new SqlLexError('unterminated /* comment', start);
      push('comment', start, i, sql.slice(start + 2, i - 2));
    } else if ((c === 'E' || c === 'e') && sql[i + 1] === "'") {
      i += 2;
      let value = '';
      for (;;) {
        if (i >= n) throw new SqlLexError('unterminated quoted string', start);
        const d = sql[i]!;
        if (d === '\\' && i + 1 < n) {
          value += sql[i + 1];
          i += 2;
        } else if (d === "'" && sql[i + 1] === "'") {
          value += "'";
          i += 2;
        } else if (d === "'") {
          i++;
          break;
        } else {
          value += d;
          i++;
        }
      }
      push('string', start, i, value);
    } else if (c === "'" || c === '"') {
      i++;
      let value = '';
      for (;;) {
        if (i >= n) throw new SqlLexError(c === "'" ? 'unterminated quoted string' : 'unterminated quoted identifier', start);
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
      push(c === "'" ? 'string' : 'quoted', start, i, value);
    } else if (c === '$' && /[0-9]/.test(sql[i + 1] ?? '')) {
      i++;
      while (i < n && /[0-9]/.test(sql[i]!)) i++;
      push('param', start, i, sql.slice(start + 1, i));
    } else if (c === '$' && /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.test(sql.slice(i, i + 64))) {
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64))![0];
      const close = sql.indexOf(tag, i + tag.length);
      if (close < 0) throw new SqlLexError('unterminated dollar-quoted string', start);
      i = close + tag.length;
      push('string', start, i, sql.slice(start + tag.length, close));
    } else if (WORD_START.test(c)) {
      while (i < n && WORD_PART.test(sql[i]!)) i++;
      push('word', start, i, sql.slice(start, i).toLowerCase());
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      while (i < n && /[0-9._eE]/.test(sql[i]!)) {
        if ((sql[i] === 'e' || sql[i] === 'E') && (sql[i + 1] === '+' || sql[i + 1] === '-')) i++;
        i++;
      }
      push('number', start, i, sql.slice(start, i));
    } else if (c === ';') {
      i++;
      push('semicolon', start, i, ';');
    } else if (OPERATOR.test(c)) {
      while (i < n && OPERATOR.test(sql[i]!) && !(sql[i] === '-' && sql[i + 1] === '-') && !(sql[i] === '/' && sql[i + 1] === '*')) i++;
      push('operator', start, i, sql.slice(start, i));
    } else {
      i++;
      push('punct', start, i, c);
    }
  }
  return out;
}

export interface StatementText {
  /** the statement without its terminating `;` */
  text: string;
  /** 0-based offset of `text` in the whole query string */
  start: number;
}

/** Splits a query string on top-level `;`; statements holding only comments and blanks are dropped. */
export function splitStatements(sql: string): StatementText[] {
  const toks = lexSql(sql);
  const out: StatementText[] = [];
  let begin = 0;
  let meaningful = false;
  const close = (end: number) => {
    if (meaningful) out.push({ text: sql.slice(begin, end), start: begin });
    meaningful = false;
  };
  for (const t of toks) {
    if (t.kind === 'semicolon') {
      close(t.start);
      begin = t.end;
    } else if (t.kind !== 'comment') {
      meaningful = true;
    }
  }
  close(sql.length);
  return out;
}

/** the tokens that carry meaning (no comments, no trailing `;`) */
export function codeTokens(sql: string): Token[] {
  return lexSql(sql).filter((t) => t.kind !== 'comment' && t.kind !== 'semicolon');
}
