/**
 * The catalog commands (GetCatalogs, GetDbSchemas, GetTables, GetTableTypes) answered from the fixed
 * list of Sirius views. Views live in no catalog and no schema (both reported as null, the way SQLite
 * does it), so clients write `SELECT … FROM log_entries` as they would anywhere else in Sirius.
 *
 * @example
 *   const t = await getTables({ table_name_filter_pattern: 'log%' }, { views: GLOBAL_VIEWS, schemaOf });
 */
import { Binary, Field, Utf8, type Schema, type Table } from 'apache-arrow';
import { column, tableOf, utf8Column } from './arrow-tables.js';
import { encapsulatedSchema } from './ipc-messages.js';

export const TABLE_TYPE = 'VIEW';

export const CATALOGS_SCHEMA_FIELDS = (): Field[] => [new Field('catalog_name', new Utf8(), false)];
export const DB_SCHEMAS_FIELDS = (): Field[] => [new Field('catalog_name', new Utf8(), true), new Field('db_schema_name', new Utf8(), false)];
export const TABLE_TYPES_FIELDS = (): Field[] => [new Field('table_type', new Utf8(), false)];
export const TABLES_FIELDS = (includeSchema: boolean): Field[] => [
  new Field('catalog_name', new Utf8(), true),
  new Field('db_schema_name', new Utf8(), true),
  new Field('table_name', new Utf8(), false),
  new Field('table_type', new Utf8(), false),
  ...(includeSchema ? [new Field('table_schema', new Binary(), false)] : []),
];

export interface GetTablesCommand {
  catalog?: string;
  db_schema_filter_pattern?: string;
  table_name_filter_pattern?: string;
  table_types?: string[];
  include_schema?: boolean;
}

export interface CatalogSource {
  views: readonly string[];
  /** the columns of a view, for `include_schema` */
  schemaOf(view: string): Promise<Schema>;
}

export function getCatalogs(): Table {
  return tableOf(CATALOGS_SCHEMA_FIELDS(), [utf8Column([])]);
}

export function getDbSchemas(): Table {
  return tableOf(DB_SCHEMAS_FIELDS(), [utf8Column([]), utf8Column([])]);
}

export function getTableTypes(): Table {
  return tableOf(TABLE_TYPES_FIELDS(), [utf8Column([TABLE_TYPE])]);
}

export async function getTables(cmd: GetTablesCommand, source: CatalogSource): Promise<Table> {
  const include = cmd.include_schema === true;
  let names = [...source.views].sort();
  // A named catalog or schema holds nothing: the views have neither. '' means "without one": all of them.
  if (cmd.catalog !== undefined && cmd.catalog !== '') names = [];
  if (cmd.db_schema_filter_pattern !== undefined && !/^%*$/.test(cmd.db_schema_filter_pattern)) names = [];
  if (cmd.table_types && cmd.table_types.length > 0 && !cmd.table_types.some((t) => t.toUpperCase() === TABLE_TYPE)) names = [];
  if (cmd.table_name_filter_pattern !== undefined) {
    const re = likePattern(cmd.table_name_filter_pattern);
    names = names.filter((n) => re.test(n));
  }
  const nulls = names.map(() => null);
  const columns = [utf8Column(nulls), utf8Column(nulls), utf8Column(names), utf8Column(names.map(() => TABLE_TYPE))];
  if (include) {
    const schemas = await Promise.all(names.map(async (n) => encapsulatedSchema(await source.schemaOf(n))));
    columns.push(column(schemas, new Binary()) as never);
  }
  return tableOf(TABLES_FIELDS(include), columns);
}

/** SQL LIKE as Flight SQL filter patterns use it: `%` any run, `_` one character, the rest literal. */
export function likePattern(pattern: string): RegExp {
  let re = '';
  for (const ch of pattern) {
    if (ch === '%') re += '.*';
    else if (ch === '_') re += '.';
    else re += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}
