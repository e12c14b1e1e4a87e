/**
 * Prepared-statement parameters over Flight SQL: the client binds them with DoPut as an Arrow record batch (one
 * row, a column per parameter), and they become SQL literals in the statement, since the engine takes SQL only.
 * Placeholders are `?` (in order, as JDBC and ADBC write them) or `$1`, `$2`… (DuckDB's and PostgreSQL's), not
 * both in one statement. Each value is written as a literal of its Arrow type: numbers must be finite numbers or
 * become DOUBLE casts, everything textual is a single-quoted string with its quotes doubled, so a parameter can
 * never change the statement's shape.
 *
 * @example
 *   bindParameters('SELECT * FROM log_entries WHERE level <= ? AND msg = ?', ['2', "'it''s'"]) // … level <= 2 AND msg = 'it''s'
 */
import { DataType, Type, type Table } from 'apache-arrow';
import { lexSql, type Token } from '../pg-wire/sql-lexer.js';
import { quoteString } from '../pg-wire/parameters.js';
import { BadCommandError } from './protocol.js';

function placeholders(sql: string): { tokens: Token[]; count: number } {
  const tokens = lexSql(sql).filter((t) => t.kind === 'param' || (t.kind === 'operator' && t.text === '?'));
  const positional = tokens.filter((t) => t.kind === 'operator').length;
  const numbered = tokens.filter((t) => t.kind === 'param');
  if (positional > 0 && numbered.length > 0) throw new BadCommandError('use either ? or $1, $2… placeholders in a statement, not both');
  const zero = numbered.find((t) => Number(t.value) < 1);
  if (zero) throw new BadCommandError(`there is no parameter ${zero.text}: they are numbered from $1`);
  return { tokens, count: positional || Math.max(0, ...numbered.map((t) => Number(t.value))) };
}

/** how many parameters the statement takes */
export function parameterCount(sql: string): number {
  return placeholders(sql).count;
}

/** The statement with each placeholder replaced by its literal (`literals[i]` for `?` number i or `$i+1`). */
export function bindParameters(sql: string, literals: readonly string[]): string {
  const { tokens, count } = placeholders(sql);
  if (count !== literals.length) throw new BadCommandError(`the statement takes ${count} parameter(s), ${literals.length} were bound`);
  let out = '';
  let last = 0;
  tokens.forEach((t, i) => {
    out += sql.slice(last, t.start) + literals[t.kind === 'param' ? Number(t.value) - 1 : i]!;
    last = t.end;
  });
  return out + sql.slice(last);
}

/** A NULL for every parameter: binds the statement well enough to check it and learn its result's columns. */
export function nullLiterals(count: number): string[] {
  return Array.from({ length: count }, () => 'NULL');
}

/** The literals of a DoPut batch: its one row, a column per parameter in order. */
export function parameterLiterals(batch: Table): string[] {
  if (batch.numRows !== 1) {
    throw new BadCommandError(`bind one row of parameters at a time (got ${batch.numRows}): each execution runs one query`);
  }
  return batch.schema.fields.map((field, i) => {
    // a dictionary-encoded column reads as its values: bind by the values' type
    const type = DataType.isDictionary(field.type) ? field.type.dictionary : field.type;
    return literal(batch.getChildAt(i)!.get(0), type.typeId, field.name);
  });
}

function literal(value: unknown, typeId: Type, name: string): string {
  if (value === null || value === undefined) return 'NULL';
  switch (typeId) {
    case Type.Bool:
      return value ? 'TRUE' : 'FALSE';
    case Type.Int:
      return `(${BigInt(value as number | bigint)})`;
    case Type.Float: {
      const n = Number(value);
      return Number.isFinite(n) ? `(${n})` : `CAST(${quoteString(String(n))} AS DOUBLE)`;
    }
    case Type.Utf8:
    case Type.LargeUtf8:
      return quoteString(String(value));
    case Type.Binary:
    case Type.LargeBinary:
      return `from_hex('${Buffer.from(value as Uint8Array).toString('hex')}')`;
    case Type.Timestamp:
    case Type.Date:
      // apache-arrow reads both as epoch milliseconds (a fraction below them: kept to the microsecond)
      return `make_timestamp_ns(${BigInt(Math.round(Number(value) * 1000)) * 1000n})`;
    default:
      throw new BadCommandError(`parameter "${name}" has Arrow type ${Type[typeId]}, which Sirius cannot bind; send it as a string`);
  }
}
