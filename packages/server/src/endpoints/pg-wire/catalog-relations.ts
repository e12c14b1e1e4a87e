/**
 * The relations the gateway's PostgreSQL catalog describes: the Sirius global views, in schema `public`,
 * with their columns typed as clients will see them in results. Lakehouse views take their columns from
 * the view definitions; the metadata views (`processes`, `streams`, `blocks`) are built by the engine from
 * SQL, so their result columns are listed here (a test checks them against what the engine returns).
 *
 * @example
 *   catalogRelations().find((r) => r.name === 'log_stats')!.columns[0] // { name: 'time_bin', type: PG_TYPES.timestamptz }
 */
import { globalViews } from '../../lakehouse/view-definitions.js';
import { pgTypeFor, type PgType } from './pg-types.js';

export interface CatalogColumn {
  name: string;
  type: PgType;
}

export interface CatalogRelation {
  name: string;
  columns: CatalogColumn[];
}

const MAP = 'MAP(VARCHAR, VARCHAR)';
const TS = 'TIMESTAMP_NS';

/** result columns of analytics/metadata-views.ts, as DuckDB types */
export const METADATA_VIEW_COLUMNS: Readonly<Record<'processes' | 'streams' | 'blocks', readonly [string, string][]>> = {
  processes: [
    ['process_id', 'VARCHAR'], ['exe', 'VARCHAR'], ['username', 'VARCHAR'], ['realname', 'VARCHAR'], ['computer', 'VARCHAR'],
    ['distro', 'VARCHAR'], ['cpu_brand', 'VARCHAR'], ['tsc_frequency', 'BIGINT'], ['start_time', TS], ['start_ticks', 'BIGINT'],
    ['insert_time', TS], ['parent_process_id', 'VARCHAR'], ['properties', MAP], ['last_update_time', TS],
    ['last_block_end_ticks', 'BIGINT'], ['last_block_end_time', TS],
  ],
  streams: [
    ['stream_id', 'VARCHAR'], ['process_id', 'VARCHAR'], ['dependencies_metadata', 'BLOB'], ['objects_metadata', 'BLOB'],
    ['tags', 'VARCHAR[]'], ['properties', MAP], ['insert_time', TS], ['last_update_time', TS],
  ],
  blocks: [
    ['block_id', 'VARCHAR'], ['stream_id', 'VARCHAR'], ['process_id', 'VARCHAR'], ['begin_time', TS], ['begin_ticks', 'BIGINT'],
    ['end_time', TS], ['end_ticks', 'BIGINT'], ['nb_objects', 'INTEGER'], ['object_offset', 'BIGINT'], ['payload_size', 'BIGINT'],
    ['insert_time', TS],
  ],
};

let cached: CatalogRelation[] | undefined;

/** every global view, in the order of the SQL surface's table */
export function catalogRelations(): readonly CatalogRelation[] {
  cached ??= [
    ...globalViews.map((v) => ({ name: v.name, columns: v.columns.map((c) => ({ name: c.name, type: pgTypeFor(c.type) })) })),
    ...Object.entries(METADATA_VIEW_COLUMNS).map(([name, cols]) => ({ name, columns: cols.map(([n, t]) => ({ name: n, type: pgTypeFor(t) })) })),
  ];
  return cached;
}
