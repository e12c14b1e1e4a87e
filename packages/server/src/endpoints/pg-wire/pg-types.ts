/**
 * PostgreSQL type OIDs for DuckDB result types, so drivers convert values to their native types
 * (pg's int8 → string/BigInt, timestamp → Date, pandas dtypes…). Nested DuckDB types (MAP, STRUCT,
 * LIST) travel as `json`: every client can read JSON text, few can read PostgreSQL composite arrays.
 *
 * @example
 *   pgTypeFor('TIMESTAMP_NS') // { oid: 1184, size: 8, name: 'timestamptz' }
 */

export const OID = {
  bool: 16,
  bytea: 17,
  name: 19,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  oid: 26,
  json: 114,
  float4: 700,
  float8: 701,
  unknown: 705,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  numeric: 1700,
  uuid: 2950,
  jsonb: 3802,
} as const;

export interface PgType {
  oid: number;
  /** pg_type.typlen: bytes of the fixed-width binary form, -1 when variable */
  size: number;
  name: string;
}

const T = (oid: number, size: number, name: string): PgType => ({ oid, size, name });

export const PG_TYPES = {
  bool: T(OID.bool, 1, 'bool'),
  bytea: T(OID.bytea, -1, 'bytea'),
  int2: T(OID.int2, 2, 'int2'),
  int4: T(OID.int4, 4, 'int4'),
  int8: T(OID.int8, 8, 'int8'),
  float4: T(OID.float4, 4, 'float4'),
  float8: T(OID.float8, 8, 'float8'),
  numeric: T(OID.numeric, -1, 'numeric'),
  text: T(OID.text, -1, 'text'),
  json: T(OID.json, -1, 'json'),
  date: T(OID.date, 4, 'date'),
  time: T(OID.time, 8, 'time'),
  timestamp: T(OID.timestamp, 8, 'timestamp'),
  timestamptz: T(OID.timestamptz, 8, 'timestamptz'),
  interval: T(OID.interval, 16, 'interval'),
  uuid: T(OID.uuid, 16, 'uuid'),
} as const;

/** the PostgreSQL type for a DuckDB SQL type name as `DuckDBType.toString()` spells it */
export function pgTypeFor(duckType: string): PgType {
  const t = duckType.trim().toUpperCase();
  if (t.endsWith('[]') || /^(MAP|STRUCT|UNION|LIST)\b/.test(t) || /\[\d+\]$/.test(t)) return PG_TYPES.json;
  if (t.startsWith('DECIMAL') || t.startsWith('NUMERIC')) return PG_TYPES.numeric;
  if (t.startsWith('ENUM')) return PG_TYPES.text;
  switch (t) {
    case 'BOOLEAN': return PG_TYPES.bool;
    case 'TINYINT': case 'SMALLINT': case 'UTINYINT': return PG_TYPES.int2;
    case 'INTEGER': case 'USMALLINT': return PG_TYPES.int4;
    case 'BIGINT': case 'UINTEGER': return PG_TYPES.int8;
    case 'UBIGINT': case 'HUGEINT': case 'UHUGEINT': return PG_TYPES.numeric;
    case 'FLOAT': return PG_TYPES.float4;
    case 'DOUBLE': return PG_TYPES.float8;
    case 'VARCHAR': case 'BIT': return PG_TYPES.text;
    case 'JSON': return PG_TYPES.json;
    case 'BLOB': return PG_TYPES.bytea;
    case 'DATE': return PG_TYPES.date;
    case 'TIME': case 'TIME_NS': return PG_TYPES.time;
    // every timestamp the engine returns is a UTC instant (its instances run in UTC; the views' time
    // columns are nanosecond instants): clients get timestamptz, so they convert to the right instant
    // whatever their own time zone
    case 'TIMESTAMP': case 'TIMESTAMP_NS': case 'TIMESTAMP_MS': case 'TIMESTAMP_S':
    case 'TIMESTAMP WITH TIME ZONE': case 'TIMESTAMPTZ': return PG_TYPES.timestamptz;
    case 'INTERVAL': return PG_TYPES.interval;
    case 'UUID': return PG_TYPES.uuid;
    default: return PG_TYPES.text;
  }
}
