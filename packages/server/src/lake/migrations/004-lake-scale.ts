/**
 * Look-ups that do not grow with the lake (bench lake-scale, BENCHMARKS.md "Lake scale"). Measured before this
 * version: the `blocks` view over one hour was a sequential scan of every block, the `processes` / `streams`
 * views walked each process's whole block history, and partition listing walked every partition on one side
 * of the range.
 *
 * - GiST indexes over the event-time interval of partitions and blocks answer "overlaps [begin, end)" in
 *   logarithmic time plus the rows returned (see event-range.ts for why a B-tree cannot).
 * - The metadata views start from the blocks in the range and the processes/streams created in it
 *   (`start_time`, `insert_time` indexes), and read each one's latest block by insert time and by end time
 *   from the newest end of (id, time) indexes instead of aggregating its history.
 *
 * `IF NOT EXISTS`: building the GiST index of a large existing `blocks` table takes minutes (30 for 10 M rows on
 * the bench host) and the migration holds its lock meanwhile, so an operator may build these indexes first with
 * `CREATE INDEX CONCURRENTLY` under the same names and expressions (docs/deployment.md); the migration then keeps them.
 */
import { rowIntervalSql } from '../event-range.js';
import type { Migration } from './migration.js';

export const lakeScaleMigration: Migration = {
  version: 4,
  name: 'lake-scale',
  async up(tx) {
    await tx.query(`CREATE INDEX IF NOT EXISTS lakehouse_partitions_event_range ON lakehouse_partitions USING gist (${rowIntervalSql('min_event_time', 'max_event_time')})`);
    await tx.query(`CREATE INDEX IF NOT EXISTS blocks_event_range ON blocks USING gist (${rowIntervalSql('begin_time', 'end_time')})`);
    await tx.query(`CREATE INDEX IF NOT EXISTS blocks_process_insert ON blocks (process_id, insert_time)`);
    await tx.query(`CREATE INDEX IF NOT EXISTS blocks_process_end ON blocks (process_id, end_time)`);
    await tx.query(`CREATE INDEX IF NOT EXISTS blocks_stream_insert ON blocks (stream_id, insert_time)`);
    await tx.query(`CREATE INDEX IF NOT EXISTS processes_start_time ON processes (start_time)`);
    await tx.query(`CREATE INDEX IF NOT EXISTS streams_insert_time ON streams (insert_time)`);
  },
};
