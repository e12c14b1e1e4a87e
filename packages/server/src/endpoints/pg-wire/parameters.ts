/**
 * Bound parameters become SQL literals in the statement text, because the query engine takes SQL only.
 * Every value is validated or quoted for the type the client declared, so a parameter can never change
 * the statement's shape: numbers must look like numbers, everything else is a single-quoted string with
 * its quotes doubled (DuckDB strings treat backslashes literally). Untyped parameters (what most drivers
 * send) become plain string literals, which DuckDB casts implicitly where a number or time is expected.
 *
 * @example
 *   bindParameters('SELECT * FROM log_entries WHERE msg = $1 LIMIT $2', ["it's", '5'], [0, 20]).sql
 *   // SELECT * FROM log_entries WHERE msg = 'it''s' LIMIT 5
 */
import { lexSql } from './sql-lexer.js';
import { OID } from './pg-types.js';

export class ParameterError extends Error {
  override readonly name = 'ParameterError';
  constructor(
    message: string,
    /** SQLSTATE */
    readonly sqlState = '22P02',
  ) {
    super(message);
  }
}

export interface BoundSql {
  sql: string;
  /** maps a 0-based offset in `sql` back to the text the client sent */
  originalOffset(offset: number): number;
}

/** the highest `$n` the statement uses (0 when none) */
export function countParameters(sql: string): number {
  let max = 0;
  for (const t of lexSql(sql)) if (t.kind === 'param') max = Math.max(max, Number(t.value));
  return max;
}

const INTEGER = /^\s*[+-]?\d+\s*$/;
const DECIMAL = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;
const FLOAT_WORDS = /^\s*[+-]?(nan|infinity|inf)\s*$/i;

export function quoteString(s: string): string {
  if (s.includes('\u0000')) throw new ParameterError('parameter values may not contain NUL characters', '22021');
  return `'${s.replace(/'/g, "''")}'`;
}

/** one text-format value as a literal of the declared type */
export function literalFor(value: string | null, typeOid: number): string {
  if (value === null) return 'NULL';
  const bad = (what: string) => new ParameterError(`invalid input syntax for type ${what}: ${JSON.stringify(value.slice(0, 100))}`);
  switch (typeOid) {
    case OID.int2:
    case OID.int4:
    case OID.int8:
    case OID.oid:
      if (!INTEGER.test(value)) throw bad('integer');
      return `(${value.trim()})`;
    case OID.numeric:
      if (!DECIMAL.test(value)) throw bad('numeric');
      return `(${value.trim()})`;
    case OID.float4:
    case OID.float8:
      if (!DECIMAL.test(value) && !FLOAT_WORDS.test(value)) throw bad('double precision');
      return `CAST(${quoteString(value.trim())} AS DOUBLE)`;
    case OID.bool: {
      const v = value.trim().toLowerCase();
      if (['t', 'true', 'yes', 'on', '1', 'y'].includes(v)) return 'TRUE';
      if (['f', 'false', 'no', 'off', '0', 'n'].includes(v)) return 'FALSE';
      throw bad('boolean');
    }
    case OID.bytea: {
      const hex = /^\\x([0-9a-fA-F]*)$/.exec(value);
      if (!hex || hex[1]!.length % 2 !== 0) throw bad('bytea (want \\x<hex>)');
      return `from_hex('${hex[1]}')`;
    }
    case OID.timestamp:
      return `CAST(${quoteString(value)} AS TIMESTAMP)`;
    case OID.timestamptz:
      return `CAST(${quoteString(value)} AS TIMESTAMPTZ)`;
    case OID.date:
      return `CAST(${quoteString(value)} AS DATE)`;
    default:
      return quoteString(value);
  }
}

/** Binary-format parameters of the simple types, decoded to the text form `literalFor` takes. */
export function decodeBinaryParameter(bytes: Buffer, typeOid: number): string {
  const need = (n: number) => {
    if (bytes.length !== n) throw new ParameterError(`binary parameter of type ${typeOid} must be ${n} bytes, got ${bytes.length}`, '22P03');
  };
  switch (typeOid) {
    case OID.bool: need(1); return bytes[0] ? 't' : 'f';
    case OID.int2: need(2); return String(bytes.readInt16BE(0));
    case OID.int4: need(4); return String(bytes.readInt32BE(0));
    case OID.oid: need(4); return String(bytes.readUInt32BE(0));
    case OID.int8: need(8); return String(bytes.readBigInt64BE(0));
    case OID.float4: need(4); return String(bytes.readFloatBE(0));
    case OID.float8: need(8); return String(bytes.readDoubleBE(0));
    case OID.bytea: return `\\x${bytes.toString('hex')}`;
    case OID.text: case OID.varchar: case OID.bpchar: case OID.json: case OID.name: case OID.unknown: return bytes.toString('utf8');
    case OID.jsonb:
      if (bytes[0] !== 1) throw new ParameterError('unsupported binary jsonb version', '22P03');
      return bytes.subarray(1).toString('utf8');
    case OID.timestamp: case OID.timestamptz: {
      need(8);
      const us = bytes.readBigInt64BE(0) + PG_EPOCH_US;
      const ms = Number(us / 1000n);
      const frac = String(((us % 1_000_000n) + 1_000_000n) % 1_000_000n).padStart(6, '0');
      return `${new Date(ms).toISOString().slice(0, 19)}.${frac}${typeOid === OID.timestamptz ? '+00' : ''}`;
    }
    case OID.date: {
      need(4);
      return new Date((bytes.readInt32BE(0) + PG_EPOCH_DAYS) * 86_400_000).toISOString().slice(0, 10);
    }
    default:
      throw new ParameterError(`binary format is not supported for parameters of type ${typeOid}; send it as text`, '0A000');
  }
}

/** microseconds and days from the Unix epoch to PostgreSQL's (2000-01-01) */
export const PG_EPOCH_US = 946_684_800_000_000n;
export const PG_EPOCH_DAYS = 10_957;

/** Replaces each `$n` with its value's literal; `values[n-1]` is the text form or null. */
export function bindParameters(sql: string, values: readonly (string | null)[], types: readonly number[]): BoundSql {
  const edits: { origStart: number; newStart: number; newEnd: number; shiftAfter: number }[] = [];
  let out = '';
  let last = 0;
  for (const t of lexSql(sql)) {
    if (t.kind !== 'param') continue;
    const n = Number(t.value);
    if (n < 1 || n > values.length) {
      throw new ParameterError(`there is no parameter $${n} (the statement was given ${values.length})`, '42P02');
    }
    const lit = literalFor(values[n - 1]!, types[n - 1] ?? 0);
    out += sql.slice(last, t.start);
    const newStart = out.length;
    out += lit;
    last = t.end;
    edits.push({ origStart: t.start, newStart, newEnd: out.length, shiftAfter: out.length - t.end });
  }
  out += sql.slice(last);
  return {
    sql: out,
    originalOffset(offset) {
      let shift = 0;
      for (const e of edits) {
        if (offset < e.newStart) break;
        if (offset < e.newEnd) return e.origStart;
        shift = e.shiftAfter;
      }
      return offset - shift;
    },
  };
}
