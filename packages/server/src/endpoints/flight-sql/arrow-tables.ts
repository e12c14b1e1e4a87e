/**
 * Small Arrow tables with exact, declared schemas (nullability included), as Flight SQL's metadata
 * commands require: clients compare the schema they receive with the one the specification defines.
 *
 * @example
 *   const t = tableOf([new Field('table_type', new Utf8(), false)], [vectorFromArray(['VIEW'], new Utf8()).data[0]!]);
 */
import { Field, makeData, RecordBatch, Schema, Struct, Table, Utf8, vectorFromArray, type Data, type DataType } from 'apache-arrow';

export function tableOf(fields: Field[], columns: Data[]): Table {
  const schema = new Schema(fields);
  const length = columns[0]?.length ?? 0;
  const data = makeData({ type: new Struct(fields), length, nullCount: 0, children: columns });
  return new Table(schema, [new RecordBatch(schema, data)]);
}

export function utf8Column(values: (string | null)[]): Data<Utf8> {
  return vectorFromArray(values, new Utf8()).data[0]!;
}

export function column<T extends DataType>(values: unknown[], type: T): Data<T> {
  return vectorFromArray(values as never[], type).data[0]! as Data<T>;
}
