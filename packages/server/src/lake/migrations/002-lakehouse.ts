/**
 * The lakehouse's bookkeeping. `lakehouse_partitions` lists the Parquet objects a query may read: a partition
 * exists for readers exactly when its row is committed, so replacing partitions (compaction, retention) is
 * one transaction that inserts the new row and deletes the old ones. `lakehouse_watermarks` records, per view
 * and instance, the insert time up to which blocks are materialized; it moves in the same transaction as the
 * partition rows it accounts for, so a crash never loses or repeats a block. Objects of deleted partitions
 * wait in `lakehouse_retired_objects` for a grace period, so queries already planned can still read them.
 */
import type { Migration } from './migration.js';

export const lakehouseMigration: Migration = {
  version: 2,
  name: 'lakehouse',
  async up(tx) {
    await tx.query(`
      CREATE TABLE lakehouse_partitions (
        view_set text NOT NULL,
        view_instance text NOT NULL,
        begin_insert_time bigint NOT NULL,
        end_insert_time bigint NOT NULL,
        min_event_time bigint NOT NULL,
        max_event_time bigint NOT NULL,
        file_path text PRIMARY KEY,
        file_size bigint NOT NULL,
        num_rows bigint NOT NULL,
        file_schema_hash text NOT NULL,
        source_data_hash text NOT NULL,
        created_time bigint NOT NULL
      )`);
    await tx.query(
      `CREATE INDEX lakehouse_partitions_insert ON lakehouse_partitions (view_set, view_instance, begin_insert_time)`,
    );
    await tx.query(
      `CREATE INDEX lakehouse_partitions_event ON lakehouse_partitions (view_set, view_instance, min_event_time, max_event_time)`,
    );
    await tx.query(`CREATE INDEX lakehouse_partitions_max_event ON lakehouse_partitions (max_event_time)`);
    await tx.query(`
      CREATE TABLE lakehouse_watermarks (
        view_set text NOT NULL,
        view_instance text NOT NULL,
        watermark bigint NOT NULL,
        PRIMARY KEY (view_set, view_instance)
      )`);
    await tx.query(`
      CREATE TABLE lakehouse_retired_objects (
        file_path text PRIMARY KEY,
        retired_time bigint NOT NULL
      )`);
    await tx.query(`CREATE INDEX lakehouse_retired_objects_time ON lakehouse_retired_objects (retired_time)`);
  },
};
