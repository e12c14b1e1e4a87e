/**
 * SQL cursors: `DECLARE c [NO SCROLL] CURSOR [WITH HOLD] FOR SELECT …`, `FETCH [FORWARD] n|ALL FROM c`,
 * `MOVE`, `CLOSE c`, `CLOSE ALL` — what psycopg named cursors, SQLAlchemy's `stream_results` and psql's
 * `FETCH_COUNT` send. The query runs when it is declared; its result is held (within the engine's result
 * caps: rows and bytes) and handed out in the slices the client fetches. Cursors move forward only, as
 * PostgreSQL's NO SCROLL cursors do. Without HOLD a cursor needs a transaction block and ends with it.
 *
 * @example
 *   const cursors = new CursorStore();
 *   await cursors.declare(codeTokens(sql), text, inTransaction, run); // DECLARE CURSOR
 *   cursors.fetch(codeTokens('FETCH FORWARD 100 FROM c'), 'fetch')     // { rows, tag: 'FETCH 100' }
 */
import type { Token } from './sql-lexer.js';
import { windowRows, type RowSource } from './row-source.js';
import { StatementError, type Outcome, type SqlText } from './statement-runner.js';

interface Cursor {
  rows: RowSource;
  /** rows already fetched or moved over */
  position: number;
  hold: boolean;
}

/** open cursors one session may hold at once: each holds a whole result */
export const MAX_CURSORS = 8;

const nameOf = (t: Token | undefined): string | undefined => (t && (t.kind === 'word' || t.kind === 'quoted') ? t.value : undefined);

export class CursorStore {
  private readonly open = new Map<string, Cursor>();

  get size(): number {
    return this.open.size;
  }

  /** `toks` are the statement's code tokens; `run` runs the cursor's query */
  async declare(toks: Token[], text: SqlText, inTransaction: boolean, run: (query: SqlText) => Promise<Outcome>): Promise<Outcome> {
    const name = nameOf(toks[1]);
    if (name === undefined) throw new StatementError('42601', 'syntax error in DECLARE: expected a cursor name', toks[1]?.start);
    let k = 2;
    let hold = false;
    for (; k < toks.length && toks[k]!.value !== 'cursor'; k++) {
      const w = toks[k]!.value;
      if (w === 'binary') throw new StatementError('0A000', 'BINARY cursors are not supported: fetch in the text format, or use the extended protocol\'s binary results', toks[k]!.start);
      if (w === 'scroll' && toks[k - 1]?.value !== 'no') {
        throw new StatementError('0A000', 'SCROLL cursors are not supported: cursors here move forward only (declare it NO SCROLL)', toks[k]!.start);
      }
      if (!['asensitive', 'insensitive', 'no', 'scroll'].includes(w)) throw new StatementError('42601', `syntax error at or near "${toks[k]!.text}"`, toks[k]!.start);
    }
    if (toks[k]?.value !== 'cursor') throw new StatementError('42601', 'syntax error in DECLARE: expected CURSOR', toks[k]?.start);
    k++;
    if ((toks[k]?.value === 'with' || toks[k]?.value === 'without') && toks[k + 1]?.value === 'hold') {
      hold = toks[k]!.value === 'with';
      k += 2;
    }
    if (toks[k]?.value !== 'for' || !toks[k + 1]) throw new StatementError('42601', 'syntax error in DECLARE: expected FOR <query>', toks[k]?.start);
    if (!hold && !inTransaction) throw new StatementError('25P01', 'DECLARE CURSOR can only be used in transaction blocks');
    if (this.open.has(name)) throw new StatementError('42P03', `cursor "${name}" already exists`);
    if (this.open.size >= MAX_CURSORS) throw new StatementError('54000', `too many open cursors (at most ${MAX_CURSORS} per session): CLOSE some first`);
    const start = toks[k + 1]!.start;
    const outcome = await run({ sql: text.sql.slice(start), originalOffset: (o) => text.originalOffset(o + start) });
    if (outcome.kind !== 'rows') throw new StatementError('42P11', 'a cursor must be declared for a SELECT query');
    this.open.set(name, { rows: outcome.rows, position: 0, hold });
    return { kind: 'command', tag: 'DECLARE CURSOR' };
  }

  /** FETCH or MOVE; `peek` (Describe) gives the columns without moving */
  fetch(toks: Token[], verb: 'fetch' | 'move', peek = false): Outcome {
    let k = 1;
    let count = 1;
    const refuse = (what: string) =>
      new StatementError('55000', `cursor can only scan forward (${what} is not supported): declare it again to start over`, toks[k]?.start);
    const word = toks[k]?.value;
    const numberAt = (j: number): number | undefined => {
      let sign = 1;
      if (toks[j]?.text === '-' || toks[j]?.text === '+') {
        sign = toks[j]!.text === '-' ? -1 : 1;
        j++;
      }
      return toks[j]?.kind === 'number' && /^\d+$/.test(toks[j]!.text) ? sign * Number(toks[j]!.text) : undefined;
    };
    const signed = (t: Token | undefined) => (t?.text === '-' || t?.text === '+' ? 2 : 1);
    if (word === 'next') k++;
    else if (word === 'all') (count = Infinity), k++;
    else if (word === 'forward') {
      k++;
      if (toks[k]?.value === 'all') (count = Infinity), k++;
      else if (numberAt(k) !== undefined) (count = numberAt(k)!), (k += signed(toks[k]));
    } else if (numberAt(k) !== undefined) (count = numberAt(k)!), (k += signed(toks[k]));
    else if (['prior', 'first', 'last', 'absolute', 'relative', 'backward'].includes(word ?? '')) throw refuse(word!.toUpperCase());
    if (count < 0) throw refuse('a negative count');
    if (toks[k]?.value === 'from' || toks[k]?.value === 'in') k++;
    const name = nameOf(toks[k]);
    if (name === undefined || k !== toks.length - 1) throw new StatementError('42601', `syntax error in ${verb.toUpperCase()}: expected [FORWARD] <count> | ALL FROM <cursor>`, toks[k]?.start);
    const cursor = this.open.get(name);
    if (!cursor) throw new StatementError('34000', `cursor "${name}" does not exist`, toks[k]!.start);
    const from = cursor.position;
    if (peek) return { kind: 'rows', rows: windowRows(cursor.rows, from, from), tag: 'FETCH 0' };
    const to = count === Infinity ? cursor.rows.rowCount : Math.min(cursor.rows.rowCount, from + count);
    cursor.position = Math.max(from, to);
    const n = cursor.position - from;
    if (verb === 'move') return { kind: 'command', tag: `MOVE ${n}` };
    return { kind: 'rows', rows: windowRows(cursor.rows, from, cursor.position), tag: `FETCH ${n}` };
  }

  close(toks: Token[]): Outcome {
    if (toks[1]?.value === 'all' && toks.length === 2) {
      this.open.clear();
      return { kind: 'command', tag: 'CLOSE CURSOR ALL' };
    }
    const name = nameOf(toks[1]);
    if (name === undefined || toks.length !== 2) throw new StatementError('42601', 'syntax error in CLOSE: expected a cursor name or ALL', toks[1]?.start);
    if (!this.open.delete(name)) throw new StatementError('34000', `cursor "${name}" does not exist`, toks[1]!.start);
    return { kind: 'command', tag: 'CLOSE CURSOR' };
  }

  /** COMMIT or ROLLBACK: cursors without HOLD end with their transaction */
  endTransaction(): void {
    for (const [name, c] of this.open) if (!c.hold) this.open.delete(name);
  }

  clear(): void {
    this.open.clear();
  }
}
