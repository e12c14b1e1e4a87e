/**
 * DuckDB reports where an error is only inside its message (`LINE 3: <excerpt>` then a caret line), and
 * truncates long lines with `...`. This recovers the 0-based offset in the SQL text and the message
 * without the excerpt, so API callers get `{ error, position }` and can draw their own caret.
 */

export interface LocatedMessage {
  message: string;
  /** 0-based offset into `sql`, when the message carries one */
  offset?: number;
}

const EXCERPT = /\n*LINE (\d+): ([^\n]*)\n( *)\^\s*$/;

export function locateError(rawMessage: string, sql: string): LocatedMessage {
  rawMessage = rawMessage.replace(/^Failed to extract statements: /, '');
  const m = EXCERPT.exec(rawMessage);
  if (!m) return { message: rawMessage.trim() };
  const message = rawMessage.slice(0, m.index).trim();
  const lineNo = Number(m[1]);
  let excerpt = m[2]!;
  const caretCol = m[3]!.length - `LINE ${m[1]}: `.length;
  const lines = sql.split('\n');
  if (lineNo < 1 || lineNo > lines.length || caretCol < 0) return { message };
  let lineStart = 0;
  for (let i = 0; i < lineNo - 1; i++) lineStart += lines[i]!.length + 1;
  const line = lines[lineNo - 1]!;
  let lead = 0;
  if (excerpt.startsWith('...')) {
    excerpt = excerpt.slice(3);
    lead = 3;
  }
  if (excerpt.endsWith('...')) excerpt = excerpt.slice(0, -3);
  const at = excerpt.length > 0 ? line.indexOf(excerpt) : 0;
  const col = (at < 0 ? 0 : at) + caretCol - lead;
  return { message, offset: lineStart + Math.max(0, Math.min(col, line.length)) };
}
