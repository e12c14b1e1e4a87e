/**
 * The lakehouse: Parquet partitions of the views, the daemon that keeps them, just-in-time views, retention.
 * Analytics consumes `createLakehouse(...)` through the `Lakehouse` interface; `sirius serve` runs the daemon.
 */
export type { Lakehouse, ResolveOptions, TimeRange, ViewSource } from './lakehouse.js';
export type { ColumnSpec, RowBatch } from './row-batch.js';
export { createLakehouse, UnknownViewError } from './create-lakehouse.js';
export type { CreateLakehouseOptions } from './create-lakehouse.js';
export { startDaemon } from './daemon.js';
export type { Daemon, DaemonOptions } from './daemon.js';
export { expireData, parseDuration } from './retention.js';
export type { ExpireResult } from './retention.js';
export { listPartitionsByHand, retirePartitionsByHand } from './admin.js';
export { listPartitions } from './partition-repository.js';
export type { PartitionRecord } from './partition-repository.js';
export { purgeRetiredObjects } from './compactor.js';
export { globalViews, blockViews, sqlViews, logEntriesView, measuresView, logStatsView, findView } from './view-definitions.js';
export type { ViewDefinition, BlockViewDefinition, SqlViewDefinition } from './view-definitions.js';
export { jitViews } from './jit-views.js';
export { logEntriesColumns, measuresColumns, columnsDdl } from './view-columns.js';
export { writeParquet } from './parquet-writer.js';
