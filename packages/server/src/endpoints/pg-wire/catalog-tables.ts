/**
 * PostgreSQL catalog tables describing the Sirius views, as DuckDB SQL (`SELECT … FROM (VALUES …)`) that
 * a catalog query gets as CTEs in place of `pg_catalog.pg_class`, `information_schema.columns`, … The
 * views are read-only relations in schema `public` with relkind 'r' (BASE TABLE): `\dt`, SQLAlchemy's
 * `get_table_names()` and Grafana's table picker only list tables. Tables with nothing to describe
 * (indexes, constraints, defaults…) are empty but typed, so joins against them still bind.
 *
 * @example
 *   catalogTableSql('pg_catalog.pg_namespace', { database: 'sirius', user: 'sirius' })
 *   // SELECT * FROM (VALUES (CAST(11 AS BIGINT), …)) AS t("oid", "nspname", "nspowner", "nspacl")
 */
import { catalogRelations } from './catalog-relations.js';
import { quoteString } from './parameters.js';
import { OID } from './pg-types.js';

export interface CatalogTableContext {
  database: string;
  user: string;
  /** the gateway's sessions, for pg_stat_activity */
  sessions?(): SessionActivity[];
}

/** one gateway session as pg_stat_activity shows it */
export interface SessionActivity {
  pid: number;
  datname: string;
  usename: string;
  applicationName: string;
  clientAddr: string | null;
  clientPort: number | null;
  backendStart: Date;
  xactStart: Date | null;
  queryStart: Date | null;
  stateChange: Date | null;
  state: 'active' | 'idle' | 'idle in transaction' | 'idle in transaction (aborted)';
  query: string;
}

type Value = string | number | boolean | null;
type Col = [name: string, duckType: string];

interface TableDef {
  columns: Col[];
  rows?: (ctx: CatalogTableContext) => Value[][];
}

export const NAMESPACE = { pg_catalog: 11, public: 2200, information_schema: 13_000 } as const;
const OWNER = 10;
const FIRST_RELATION_OID = 16_384;
const DEFAULT_COLLATION = 100;
const DATABASE_OID = 16_383;
const iso = (d: Date | null) => (d === null ? null : d.toISOString());

/** per type: format_type name, typcategory, array type oid, numeric precision (bits or digits) */
export const TYPE_INFO: Record<number, { typname: string; display: string; len: number; category: string; array: number; precision?: number; datetime?: number }> = {
  [OID.bool]: { typname: 'bool', display: 'boolean', len: 1, category: 'B', array: 1000 },
  [OID.bytea]: { typname: 'bytea', display: 'bytea', len: -1, category: 'U', array: 1001 },
  [OID.name]: { typname: 'name', display: 'name', len: 64, category: 'S', array: 1003 },
  [OID.int8]: { typname: 'int8', display: 'bigint', len: 8, category: 'N', array: 1016, precision: 64 },
  [OID.int2]: { typname: 'int2', display: 'smallint', len: 2, category: 'N', array: 1005, precision: 16 },
  [OID.int4]: { typname: 'int4', display: 'integer', len: 4, category: 'N', array: 1007, precision: 32 },
  [OID.text]: { typname: 'text', display: 'text', len: -1, category: 'S', array: 1009 },
  [OID.oid]: { typname: 'oid', display: 'oid', len: 4, category: 'N', array: 1028 },
  [OID.json]: { typname: 'json', display: 'json', len: -1, category: 'U', array: 199 },
  [OID.float4]: { typname: 'float4', display: 'real', len: 4, category: 'N', array: 1021, precision: 24 },
  [OID.float8]: { typname: 'float8', display: 'double precision', len: 8, category: 'N', array: 1022, precision: 53 },
  [OID.varchar]: { typname: 'varchar', display: 'character varying', len: -1, category: 'S', array: 1015 },
  [OID.date]: { typname: 'date', display: 'date', len: 4, category: 'D', array: 1182, datetime: 0 },
  [OID.time]: { typname: 'time', display: 'time without time zone', len: 8, category: 'D', array: 1183, datetime: 6 },
  [OID.timestamp]: { typname: 'timestamp', display: 'timestamp without time zone', len: 8, category: 'D', array: 1115, datetime: 6 },
  [OID.timestamptz]: { typname: 'timestamptz', display: 'timestamp with time zone', len: 8, category: 'D', array: 1185, datetime: 6 },
  [OID.interval]: { typname: 'interval', display: 'interval', len: 16, category: 'T', array: 1187, datetime: 6 },
  [OID.numeric]: { typname: 'numeric', display: 'numeric', len: -1, category: 'N', array: 1231 },
  [OID.uuid]: { typname: 'uuid', display: 'uuid', len: 16, category: 'U', array: 2951 },
  [OID.jsonb]: { typname: 'jsonb', display: 'jsonb', len: -1, category: 'U', array: 3807 },
};

const collatable = (oid: number) => TYPE_INFO[oid]?.category === 'S';

const cols = (spec: string): Col[] => spec.trim().split(/\s*,\s*/).map((p) => p.split(/\s+/) as Col);

function relations() {
  return catalogRelations().map((r, i) => ({ ...r, oid: FIRST_RELATION_OID + i, rowType: FIRST_RELATION_OID + 100 + i }));
}

const TABLES: Record<string, TableDef> = {
  'pg_catalog.pg_namespace': {
    columns: cols('oid BIGINT, nspname VARCHAR, nspowner BIGINT, nspacl VARCHAR[]'),
    rows: () => Object.entries(NAMESPACE).map(([name, oid]) => [oid, name, OWNER, null]),
  },
  'pg_catalog.pg_class': {
    columns: cols(`oid BIGINT, relname VARCHAR, relnamespace BIGINT, reltype BIGINT, reloftype BIGINT, relowner BIGINT, relam BIGINT,
      relfilenode BIGINT, reltablespace BIGINT, relpages INTEGER, reltuples DOUBLE, relallvisible INTEGER, reltoastrelid BIGINT,
      relhasindex BOOLEAN, relisshared BOOLEAN, relpersistence VARCHAR, relkind VARCHAR, relnatts SMALLINT, relchecks SMALLINT,
      relhasrules BOOLEAN, relhastriggers BOOLEAN, relhassubclass BOOLEAN, relrowsecurity BOOLEAN, relforcerowsecurity BOOLEAN,
      relispopulated BOOLEAN, relreplident VARCHAR, relispartition BOOLEAN, relrewrite BIGINT, relfrozenxid BIGINT, relminmxid BIGINT,
      relacl VARCHAR[], reloptions VARCHAR[], relpartbound VARCHAR`),
    rows: () =>
      relations().map((r) => [r.oid, r.name, NAMESPACE.public, r.rowType, 0, OWNER, 2, 0, 0, 0, -1, 0, 0, false, false, 'p', 'r',
        r.columns.length, 0, false, false, false, false, false, true, 'd', false, 0, 0, 0, null, null, null]),
  },
  'pg_catalog.pg_attribute': {
    columns: cols(`attrelid BIGINT, attname VARCHAR, atttypid BIGINT, attstattarget INTEGER, attlen SMALLINT, attnum SMALLINT,
      attndims INTEGER, attcacheoff INTEGER, atttypmod INTEGER, attbyval BOOLEAN, attalign VARCHAR, attstorage VARCHAR,
      attcompression VARCHAR, attnotnull BOOLEAN, atthasdef BOOLEAN, atthasmissing BOOLEAN, attidentity VARCHAR, attgenerated VARCHAR,
      attisdropped BOOLEAN, attislocal BOOLEAN, attinhcount INTEGER, attcollation BIGINT, attacl VARCHAR[], attoptions VARCHAR[],
      attfdwoptions VARCHAR[], attmissingval VARCHAR`),
    rows: () =>
      relations().flatMap((r) =>
        r.columns.map((c, i) => [r.oid, c.name, c.type.oid, -1, c.type.size, i + 1, 0, -1, -1, c.type.size > 0 && c.type.size <= 8,
          c.type.size === 8 ? 'd' : c.type.size === 2 ? 's' : c.type.size === 1 ? 'c' : 'i', c.type.size > 0 ? 'p' : 'x', '', false, false,
          false, '', '', false, true, 0, collatable(c.type.oid) ? DEFAULT_COLLATION : 0, null, null, null, null]),
      ),
  },
  'pg_catalog.pg_type': {
    columns: cols(`oid BIGINT, typname VARCHAR, typnamespace BIGINT, typowner BIGINT, typlen SMALLINT, typbyval BOOLEAN, typtype VARCHAR,
      typcategory VARCHAR, typispreferred BOOLEAN, typisdefined BOOLEAN, typdelim VARCHAR, typrelid BIGINT, typsubscript VARCHAR,
      typelem BIGINT, typarray BIGINT, typinput VARCHAR, typoutput VARCHAR, typreceive VARCHAR, typsend VARCHAR, typmodin VARCHAR,
      typmodout VARCHAR, typanalyze VARCHAR, typalign VARCHAR, typstorage VARCHAR, typnotnull BOOLEAN, typbasetype BIGINT,
      typtypmod INTEGER, typndims INTEGER, typcollation BIGINT, typdefaultbin VARCHAR, typdefault VARCHAR, typacl VARCHAR[]`),
    rows: () =>
      Object.entries(TYPE_INFO).map(([oid, t]) => [Number(oid), t.typname, NAMESPACE.pg_catalog, OWNER, t.len, t.len > 0 && t.len <= 8, 'b',
        t.category, false, true, ',', 0, '-', 0, t.array, `${t.typname}in`, `${t.typname}out`, `${t.typname}recv`, `${t.typname}send`, '-', '-',
        '-', t.len === 8 ? 'd' : 'i', t.len > 0 ? 'p' : 'x', false, 0, -1, 0, collatable(Number(oid)) ? DEFAULT_COLLATION : 0, null, null, null]),
  },
  'pg_catalog.pg_am': {
    columns: cols('oid BIGINT, amname VARCHAR, amhandler VARCHAR, amtype VARCHAR'),
    rows: () => [[2, 'heap', 'heap_tableam_handler', 't'], [403, 'btree', 'bthandler', 'i']],
  },
  'pg_catalog.pg_database': {
    columns: cols(`oid BIGINT, datname VARCHAR, datdba BIGINT, encoding INTEGER, datlocprovider VARCHAR, datistemplate BOOLEAN,
      datallowconn BOOLEAN, datconnlimit INTEGER, datfrozenxid BIGINT, datminmxid BIGINT, dattablespace BIGINT, datcollate VARCHAR,
      datctype VARCHAR, daticulocale VARCHAR, datcollversion VARCHAR, datacl VARCHAR[]`),
    rows: (ctx) => [[DATABASE_OID, ctx.database, OWNER, 6, 'c', false, true, -1, 0, 0, 1663, 'C.UTF-8', 'C.UTF-8', null, null, null]],
  },
  'pg_catalog.pg_tables': {
    columns: cols('schemaname VARCHAR, tablename VARCHAR, tableowner VARCHAR, tablespace VARCHAR, hasindexes BOOLEAN, hasrules BOOLEAN, hastriggers BOOLEAN, rowsecurity BOOLEAN'),
    rows: (ctx) => relations().map((r) => ['public', r.name, ctx.user, null, false, false, false, false]),
  },
  'pg_catalog.pg_views': { columns: cols('schemaname VARCHAR, viewname VARCHAR, viewowner VARCHAR, definition VARCHAR') },
  'pg_catalog.pg_matviews': { columns: cols('schemaname VARCHAR, matviewname VARCHAR, matviewowner VARCHAR, tablespace VARCHAR, hasindexes BOOLEAN, ispopulated BOOLEAN, definition VARCHAR') },
  'pg_catalog.pg_index': {
    columns: cols(`indexrelid BIGINT, indrelid BIGINT, indnatts SMALLINT, indnkeyatts SMALLINT, indisunique BOOLEAN,
      indnullsnotdistinct BOOLEAN, indisprimary BOOLEAN, indisexclusion BOOLEAN, indimmediate BOOLEAN, indisclustered BOOLEAN,
      indisvalid BOOLEAN, indcheckxmin BOOLEAN, indisready BOOLEAN, indislive BOOLEAN, indisreplident BOOLEAN, indkey SMALLINT[],
      indcollation BIGINT[], indclass BIGINT[], indoption SMALLINT[], indexprs VARCHAR, indpred VARCHAR`),
  },
  'pg_catalog.pg_constraint': {
    columns: cols(`oid BIGINT, conname VARCHAR, connamespace BIGINT, contype VARCHAR, condeferrable BOOLEAN, condeferred BOOLEAN,
      convalidated BOOLEAN, conrelid BIGINT, contypid BIGINT, conindid BIGINT, conparentid BIGINT, confrelid BIGINT, confupdtype VARCHAR,
      confdeltype VARCHAR, confmatchtype VARCHAR, conislocal BOOLEAN, coninhcount INTEGER, connoinherit BOOLEAN, conkey SMALLINT[],
      confkey SMALLINT[], conpfeqop BIGINT[], conppeqop BIGINT[], conffeqop BIGINT[], confdelsetcols SMALLINT[], conexclop BIGINT[], conbin VARCHAR`),
  },
  'pg_catalog.pg_attrdef': { columns: cols('oid BIGINT, adrelid BIGINT, adnum SMALLINT, adbin VARCHAR') },
  'pg_catalog.pg_description': { columns: cols('objoid BIGINT, classoid BIGINT, objsubid INTEGER, description VARCHAR') },
  'pg_catalog.pg_inherits': { columns: cols('inhrelid BIGINT, inhparent BIGINT, inhseqno INTEGER, inhdetachpending BOOLEAN') },
  'pg_catalog.pg_collation': {
    columns: cols(`oid BIGINT, collname VARCHAR, collnamespace BIGINT, collowner BIGINT, collprovider VARCHAR, collisdeterministic BOOLEAN,
      collencoding INTEGER, collcollate VARCHAR, collctype VARCHAR, colliculocale VARCHAR, collversion VARCHAR`),
  },
  'pg_catalog.pg_rewrite': { columns: cols('oid BIGINT, rulename VARCHAR, ev_class BIGINT, ev_type VARCHAR, ev_enabled VARCHAR, is_instead BOOLEAN, ev_qual VARCHAR, ev_action VARCHAR') },
  'pg_catalog.pg_trigger': {
    columns: cols(`oid BIGINT, tgrelid BIGINT, tgparentid BIGINT, tgname VARCHAR, tgfoid BIGINT, tgtype SMALLINT, tgenabled VARCHAR,
      tgisinternal BOOLEAN, tgconstrrelid BIGINT, tgconstrindid BIGINT, tgconstraint BIGINT, tgdeferrable BOOLEAN, tginitdeferred BOOLEAN,
      tgnargs SMALLINT, tgattr SMALLINT[], tgargs VARCHAR, tgqual VARCHAR, tgoldtable VARCHAR, tgnewtable VARCHAR`),
  },
  'pg_catalog.pg_policy': { columns: cols('oid BIGINT, polname VARCHAR, polrelid BIGINT, polcmd VARCHAR, polpermissive BOOLEAN, polroles BIGINT[], polqual VARCHAR, polwithcheck VARCHAR') },
  'pg_catalog.pg_statistic_ext': { columns: cols('oid BIGINT, stxrelid BIGINT, stxname VARCHAR, stxnamespace BIGINT, stxowner BIGINT, stxstattarget INTEGER, stxkeys SMALLINT[], stxkind VARCHAR[], stxexprs VARCHAR') },
  'pg_catalog.pg_publication': { columns: cols('oid BIGINT, pubname VARCHAR, pubowner BIGINT, puballtables BOOLEAN, pubinsert BOOLEAN, pubupdate BOOLEAN, pubdelete BOOLEAN, pubtruncate BOOLEAN, pubviaroot BOOLEAN') },
  'pg_catalog.pg_publication_rel': { columns: cols('oid BIGINT, prpubid BIGINT, prrelid BIGINT, prqual VARCHAR, prattrs SMALLINT[]') },
  'pg_catalog.pg_publication_namespace': { columns: cols('oid BIGINT, pnpubid BIGINT, pnnspid BIGINT') },
  'pg_catalog.pg_depend': { columns: cols('classid BIGINT, objid BIGINT, objsubid INTEGER, refclassid BIGINT, refobjid BIGINT, refobjsubid INTEGER, deptype VARCHAR') },
  'pg_catalog.pg_sequence': { columns: cols('seqrelid BIGINT, seqtypid BIGINT, seqstart BIGINT, seqincrement BIGINT, seqmax BIGINT, seqmin BIGINT, seqcache BIGINT, seqcycle BOOLEAN') },
  'pg_catalog.pg_enum': { columns: cols('oid BIGINT, enumtypid BIGINT, enumsortorder REAL, enumlabel VARCHAR') },
  'pg_catalog.pg_partitioned_table': { columns: cols('partrelid BIGINT, partstrat VARCHAR, partnatts SMALLINT, partdefid BIGINT, partattrs SMALLINT[], partclass BIGINT[], partcollation BIGINT[], partexprs VARCHAR') },
  'pg_catalog.pg_extension': {
    columns: cols('oid BIGINT, extname VARCHAR, extowner BIGINT, extnamespace BIGINT, extrelocatable BOOLEAN, extversion VARCHAR, extconfig BIGINT[], extcondition VARCHAR[]'),
    rows: () => [[13_500, 'plpgsql', OWNER, NAMESPACE.pg_catalog, false, '1.0', null, null]],
  },
  'pg_catalog.pg_stat_activity': {
    columns: cols(`datid BIGINT, datname VARCHAR, pid INTEGER, leader_pid INTEGER, usesysid BIGINT, usename VARCHAR, application_name VARCHAR,
      client_addr VARCHAR, client_hostname VARCHAR, client_port INTEGER, backend_start TIMESTAMPTZ, xact_start TIMESTAMPTZ,
      query_start TIMESTAMPTZ, state_change TIMESTAMPTZ, wait_event_type VARCHAR, wait_event VARCHAR, state VARCHAR, backend_xid BIGINT,
      backend_xmin BIGINT, query_id BIGINT, query VARCHAR, backend_type VARCHAR`),
    rows: (ctx) =>
      (ctx.sessions?.() ?? []).map((a) => [DATABASE_OID, a.datname, a.pid, null, OWNER, a.usename, a.applicationName, a.clientAddr, null,
        a.clientPort, iso(a.backendStart), iso(a.xactStart), iso(a.queryStart), iso(a.stateChange), a.state === 'active' ? null : 'Client',
        a.state === 'active' ? null : 'ClientRead', a.state, null, null, null, a.query, 'client backend']),
  },
  'information_schema.schemata': {
    columns: cols(`catalog_name VARCHAR, schema_name VARCHAR, schema_owner VARCHAR, default_character_set_catalog VARCHAR,
      default_character_set_schema VARCHAR, default_character_set_name VARCHAR, sql_path VARCHAR`),
    rows: (ctx) => Object.keys(NAMESPACE).map((n) => [ctx.database, n, ctx.user, null, null, null, null]),
  },
  'information_schema.tables': {
    columns: cols(`table_catalog VARCHAR, table_schema VARCHAR, table_name VARCHAR, table_type VARCHAR, self_referencing_column_name VARCHAR,
      reference_generation VARCHAR, user_defined_type_catalog VARCHAR, user_defined_type_schema VARCHAR, user_defined_type_name VARCHAR,
      is_insertable_into VARCHAR, is_typed VARCHAR, commit_action VARCHAR`),
    rows: (ctx) => relations().map((r) => [ctx.database, 'public', r.name, 'BASE TABLE', null, null, null, null, null, 'NO', 'NO', null]),
  },
  'information_schema.views': {
    columns: cols(`table_catalog VARCHAR, table_schema VARCHAR, table_name VARCHAR, view_definition VARCHAR, check_option VARCHAR,
      is_updatable VARCHAR, is_insertable_into VARCHAR, is_trigger_updatable VARCHAR, is_trigger_deletable VARCHAR, is_trigger_insertable_into VARCHAR`),
  },
  'information_schema.columns': {
    columns: cols(`table_catalog VARCHAR, table_schema VARCHAR, table_name VARCHAR, column_name VARCHAR, ordinal_position INTEGER,
      column_default VARCHAR, is_nullable VARCHAR, data_type VARCHAR, character_maximum_length INTEGER, character_octet_length INTEGER,
      numeric_precision INTEGER, numeric_precision_radix INTEGER, numeric_scale INTEGER, datetime_precision INTEGER, interval_type VARCHAR,
      interval_precision INTEGER, character_set_catalog VARCHAR, character_set_schema VARCHAR, character_set_name VARCHAR,
      collation_catalog VARCHAR, collation_schema VARCHAR, collation_name VARCHAR, domain_catalog VARCHAR, domain_schema VARCHAR,
      domain_name VARCHAR, udt_catalog VARCHAR, udt_schema VARCHAR, udt_name VARCHAR, scope_catalog VARCHAR, scope_schema VARCHAR,
      scope_name VARCHAR, maximum_cardinality INTEGER, dtd_identifier VARCHAR, is_self_referencing VARCHAR, is_identity VARCHAR,
      identity_generation VARCHAR, identity_start VARCHAR, identity_increment VARCHAR, identity_maximum VARCHAR, identity_minimum VARCHAR,
      identity_cycle VARCHAR, is_generated VARCHAR, generation_expression VARCHAR, is_updatable VARCHAR`),
    rows: (ctx) =>
      relations().flatMap((r) =>
        r.columns.map((c, i) => {
          const t = TYPE_INFO[c.type.oid]!;
          const intPrecision = t.category === 'N' && t.precision !== undefined;
          return [ctx.database, 'public', r.name, c.name, i + 1, null, 'YES', t.display, null, t.category === 'S' ? 1_073_741_824 : null,
            intPrecision ? t.precision! : null, intPrecision ? 2 : t.typname === 'numeric' ? 10 : null, intPrecision && t.typname.startsWith('int') ? 0 : null,
            t.datetime ?? null, null, null, null, null, null, null, null, null, null, null, null, ctx.database, 'pg_catalog', t.typname,
            null, null, null, null, String(i + 1), 'NO', 'NO', null, null, null, null, null, 'NO', 'NEVER', null, 'NO'];
        }),
      ),
  },
};

/** the catalog tables answered here, as `schema.table` */
export function isCatalogTable(qualified: string): boolean {
  return Object.hasOwn(TABLES, qualified);
}

/** the CTE name a catalog table is renamed to in the rewritten query */
export function cteName(qualified: string): string {
  return `__sirius_${qualified.replace('.', '_')}`;
}

/** DuckDB SQL producing the table's rows with its PostgreSQL column names */
export function catalogTableSql(qualified: string, ctx: CatalogTableContext): string {
  const def = TABLES[qualified];
  if (!def) throw new Error(`no catalog table ${qualified}`);
  const names = def.columns.map(([n]) => `"${n}"`).join(', ');
  const rows = def.rows?.(ctx) ?? [];
  if (rows.length === 0) return `SELECT ${def.columns.map(([n, t]) => `CAST(NULL AS ${t}) AS "${n}"`).join(', ')} WHERE false`;
  const values = rows.map((row) => `(${row.map((v, i) => `CAST(${literal(v)} AS ${def.columns[i]![1]})`).join(', ')})`);
  return `SELECT * FROM (VALUES ${values.join(', ')}) AS t(${names})`;
}

function literal(v: Value): string {
  if (v === null) return 'NULL';
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (typeof v === 'number') return String(v);
  return quoteString(v);
}
