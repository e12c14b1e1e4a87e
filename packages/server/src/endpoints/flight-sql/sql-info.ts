/**
 * CommandGetSqlInfo: the few facts clients ask for when they connect (server name and version, read-only,
 * SQL supported, no transactions, no cancel, the identifier quote). The result schema is fixed by Flight
 * SQL: `info_name: uint32 not null, value: dense_union<string_value, bool_value, bigint_value,
 * int32_bitmask, string_list, int32_to_int32_list_map>`; every member must be declared even when unused.
 *
 * @example
 *   sqlInfoTable([0, 3]);   // FLIGHT_SQL_SERVER_NAME and FLIGHT_SQL_SERVER_READ_ONLY
 */
import {
  Bool, DenseUnion, Field, Int32, Int64, List, makeData, Map_, Struct, Uint32, Utf8, type Data, type Table,
} from 'apache-arrow';
import { column, tableOf } from './arrow-tables.js';

type InfoValue = { kind: 'string'; value: string } | { kind: 'bool'; value: boolean } | { kind: 'int32'; value: number };

const VERSION = '0.1.0';

/** SqlInfo ids (FlightSql.proto's `SqlInfo` enum) and Sirius's answers. */
const INFO: ReadonlyMap<number, InfoValue> = new Map<number, InfoValue>([
  [0, { kind: 'string', value: 'Sirius' }], // FLIGHT_SQL_SERVER_NAME
  [1, { kind: 'string', value: VERSION }], // FLIGHT_SQL_SERVER_VERSION
  [2, { kind: 'string', value: '1.5.0' }], // FLIGHT_SQL_SERVER_ARROW_VERSION (IPC format, metadata V5)
  [3, { kind: 'bool', value: true }], // FLIGHT_SQL_SERVER_READ_ONLY
  [4, { kind: 'bool', value: true }], // FLIGHT_SQL_SERVER_SQL
  [5, { kind: 'bool', value: false }], // FLIGHT_SQL_SERVER_SUBSTRAIT
  [8, { kind: 'int32', value: 0 }], // FLIGHT_SQL_SERVER_TRANSACTION: SQL_SUPPORTED_TRANSACTION_NONE
  [9, { kind: 'bool', value: false }], // FLIGHT_SQL_SERVER_CANCEL
  [10, { kind: 'bool', value: false }], // FLIGHT_SQL_SERVER_BULK_INGESTION
  [500, { kind: 'bool', value: false }], // SQL_DDL_CATALOG
  [501, { kind: 'bool', value: false }], // SQL_DDL_SCHEMA
  [502, { kind: 'bool', value: false }], // SQL_DDL_TABLE
  [503, { kind: 'int32', value: 3 }], // SQL_IDENTIFIER_CASE: SQL_CASE_SENSITIVITY_LOWERCASE
  [504, { kind: 'string', value: '"' }], // SQL_IDENTIFIER_QUOTE_CHAR
  [563, { kind: 'bool', value: false }], // SQL_TRANSACTIONS_SUPPORTED
]);

const TYPE_ID = { string: 0, bool: 1, int32: 3 } as const;

function valueType(): DenseUnion {
  const children = [
    new Field('string_value', new Utf8(), true),
    new Field('bool_value', new Bool(), true),
    new Field('bigint_value', new Int64(), true),
    new Field('int32_bitmask', new Int32(), true),
    new Field('string_list', new List(new Field('item', new Utf8(), true)), true),
    new Field(
      'int32_to_int32_list_map',
      new Map_(new Field('entries', new Struct([new Field('key', new Int32(), false), new Field('value', new List(new Field('item', new Int32(), true)), true)] as Field[]), false) as never),
      true,
    ),
  ];
  return new DenseUnion([0, 1, 2, 3, 4, 5], children);
}

export function sqlInfoFields(): Field[] {
  return [new Field('info_name', new Uint32(), false), new Field('value', valueType(), false)];
}

/** the requested ids Sirius knows (all of them when `ids` is empty), in the order asked */
export function sqlInfoTable(ids: readonly number[]): Table {
  const wanted = (ids.length > 0 ? ids : [...INFO.keys()]).filter((id) => INFO.has(id));
  const strings: string[] = [];
  const bools: boolean[] = [];
  const ints: number[] = [];
  const typeIds = new Int8Array(wanted.length);
  const offsets = new Int32Array(wanted.length);
  wanted.forEach((id, i) => {
    const v = INFO.get(id)!;
    typeIds[i] = TYPE_ID[v.kind];
    if (v.kind === 'string') offsets[i] = strings.push(v.value) - 1;
    else if (v.kind === 'bool') offsets[i] = bools.push(v.value) - 1;
    else offsets[i] = ints.push(v.value) - 1;
  });
  const type = valueType();
  const children: Data[] = [
    column(strings, type.children[0]!.type),
    column(bools, type.children[1]!.type),
    column([], type.children[2]!.type),
    column(ints, type.children[3]!.type),
    column([], type.children[4]!.type),
    column([], type.children[5]!.type),
  ];
  const values = makeData({ type, length: wanted.length, nullCount: 0, typeIds, valueOffsets: offsets, children });
  return tableOf(sqlInfoFields(), [column(wanted, new Uint32()), values]);
}
