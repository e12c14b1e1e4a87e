/**
 * The views the lakehouse keeps. Two kinds: block views, made by decoding blocks of streams with a tag
 * (`log_entries`, `measures`), and SQL views, defined by DuckDB SQL over another view's partitions and kept
 * up to date partition by partition (`log_stats`). Adding a SQL view is adding a definition object here.
 */
import { logEntriesRows, measuresRows } from './block-rows.js';
import { logEntriesColumns, measuresColumns } from './view-columns.js';
import { otelSpansView } from './otel-spans-view.js';
import type { ColumnSpec, RowBatch } from './row-batch.js';
import type { SourceBlock } from './source-blocks.js';
import type { TransitColumns } from '@sirius/transit';

export interface BlockViewDefinition {
  kind: 'blocks';
  name: string;
  /** stream tag whose blocks feed the view */
  tag: string;
  columns: readonly ColumnSpec[];
  timeColumn: string;
  rows(blocks: readonly SourceBlock[], decoded: readonly (TransitColumns | null)[]): RowBatch;
}

export interface SqlViewDefinition {
  kind: 'sql';
  name: string;
  /** the view whose partitions feed this one */
  source: string;
  columns: readonly ColumnSpec[];
  timeColumn: string;
  /** DuckDB SQL reading the table `source` (one source partition) and producing this view's rows */
  sql: string;
  /** DuckDB SQL reading the table `partitions` (several of this view's partitions) and producing one merged set */
  mergeSql: string;
}

export type ViewDefinition = BlockViewDefinition | SqlViewDefinition;

export const logEntriesView: BlockViewDefinition = {
  kind: 'blocks',
  name: 'log_entries',
  tag: 'log',
  columns: logEntriesColumns,
  timeColumn: 'time',
  rows: logEntriesRows,
};

export const measuresView: BlockViewDefinition = {
  kind: 'blocks',
  name: 'measures',
  tag: 'metrics',
  columns: measuresColumns,
  timeColumn: 'time',
  rows: measuresRows,
};

/** Log counts per minute, process, level and target. Counts merge by summing, never by counting rows. */
export const logStatsView: SqlViewDefinition = {
  kind: 'sql',
  name: 'log_stats',
  source: 'log_entries',
  columns: [
    { name: 'time_bin', type: 'TIMESTAMP_NS' },
    { name: 'process_id', type: 'VARCHAR' },
    { name: 'level', type: 'INTEGER' },
    { name: 'target', type: 'VARCHAR' },
    { name: 'count', type: 'BIGINT' },
  ],
  timeColumn: 'time_bin',
  sql: `SELECT time_bucket(INTERVAL '1 minute', time)::TIMESTAMP_NS AS time_bin, process_id, level, target, count(*)::BIGINT AS count
        FROM source GROUP BY ALL ORDER BY time_bin, process_id, level, target`,
  mergeSql: `SELECT time_bin, process_id, level, target, sum(count)::BIGINT AS count
             FROM partitions GROUP BY ALL ORDER BY time_bin, process_id, level, target`,
};

export const blockViews: readonly BlockViewDefinition[] = [logEntriesView, measuresView, otelSpansView];
export const sqlViews: readonly SqlViewDefinition[] = [logStatsView];
export const globalViews: readonly ViewDefinition[] = [...blockViews, ...sqlViews];

export function findView(name: string): ViewDefinition | undefined {
  return globalViews.find((v) => v.name === name);
}

/** SQL views fed by `name`: a source may not be compacted past what they have consumed. */
export function dependentsOf(name: string): SqlViewDefinition[] {
  return sqlViews.filter((v) => v.source === name);
}
