/**
 * The time look-ups of migration 4 (event-range.ts), on PGlite and the PostgreSQL server: partition listing and
 * the `blocks` / `processes` / `streams` views select exactly the rows the plain overlap predicate selects
 * (rows touching the range's edges, a row whose bounds are swapped, an empty range), and each statement can be
 * answered from its GiST index, i.e. the query's expression matches the index's. How fast, and how flat as the
 * lake grows, is for the `lake-scale` bench.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { openSqlClient } from '../../src/lake/open-sql-client.js';
import { runMigrations } from '../../src/lake/migrate.js';
import { overlapSql, rowIntervalSql } from '../../src/lake/event-range.js';
import { listPartitions } from '../../src/lakehouse/partition-repository.js';
import { loadMetadataView } from '../../src/analytics/metadata-views.js';
import type { SqlClient } from '../../src/lake/sql-client.js';
import { pgBackends } from '../support/pg.js';

for (const b of pgBackends) if (b.skip) console.log(b.skip);

/** [min, max] of each partition / [begin, end] of each block, in ns; the last is stored with swapped bounds */
const INTERVALS: [bigint, bigint][] = [
  [0n, 99n], [100n, 199n], [200n, 299n], [150n, 150n], [50n, 500n], [300n, 399n], [1000n, 2000n], [260n, 240n],
];
const RANGES: [bigint, bigint][] = [
  [0n, 100n], [100n, 200n], [199n, 200n], [150n, 151n], [240n, 260n], [400n, 1000n], [1000n, 1001n], [2000n, 3000n],
  [2001n, 3000n], [-50n, 0n], [120n, 120n], [-10n, 5000n],
];

const overlaps = ([lo, hi]: [bigint, bigint], [begin, end]: [bigint, bigint]) => lo < end && hi >= begin;

for (const backend of pgBackends) {
  describe(`time look-ups through the event-range indexes (${backend.name})`, { skip: backend.skip }, () => {
    let db: Awaited<ReturnType<typeof backend.create>>;
    let sql: SqlClient;
    let duck: DuckDBInstance;
    let conn: DuckDBConnection;
    before(async () => {
      db = await backend.create();
      sql = await openSqlClient(db.connectionString, { inMemory: true });
      await runMigrations(sql);
      for (const [i, [lo, hi]] of INTERVALS.entries()) {
        await sql.query(
          `INSERT INTO lakehouse_partitions (view_set, view_instance, begin_insert_time, end_insert_time, min_event_time, max_event_time,
             file_path, file_size, num_rows, file_schema_hash, source_data_hash, created_time)
           VALUES ('log_entries', 'global', 0, 1, $1, $2, $3, 1, 1, 'h', 'h', 0)`,
          [lo, hi, `views/log_entries/global/p${i}.parquet`],
        );
        await sql.query(`INSERT INTO processes (process_id, exe, username, realname, computer, distro, cpu_brand, tsc_frequency, start_time, start_ticks, insert_time)
                         VALUES ($1, 'e', 'u', 'r', 'c', 'd', 'cpu', 1, -1000, 0, -1000)`, [`p${i}`]);
        await sql.query(`INSERT INTO streams (stream_id, process_id, insert_time) VALUES ($1, $2, -1000)`, [`s${i}`, `p${i}`]);
        await sql.query(
          `INSERT INTO blocks (block_id, stream_id, process_id, begin_time, begin_ticks, end_time, end_ticks, nb_objects, object_offset, payload_size, insert_time)
           VALUES ($1, $2, $3, $4, 0, $5, 0, 1, 0, 1, $6)`,
          [`b${i}`, `s${i}`, `p${i}`, lo, hi, 5000 + i],
        );
      }
      // a partition of another view overlapping everything: never listed for log_entries
      await sql.query(
        `INSERT INTO lakehouse_partitions (view_set, view_instance, begin_insert_time, end_insert_time, min_event_time, max_event_time,
           file_path, file_size, num_rows, file_schema_hash, source_data_hash, created_time)
         VALUES ('measures', 'global', 0, 1, -100000, 100000, 'views/measures/global/all.parquet', 1, 1, 'h', 'h', 0)`,
      );
      duck = await DuckDBInstance.create(':memory:');
      conn = await duck.connect();
    });
    after(async () => {
      conn?.closeSync();
      duck?.closeSync();
      await sql?.close();
      await db?.drop();
    });

    test('partition listing selects exactly the partitions overlapping [begin, end)', async () => {
      for (const range of RANGES) {
        const listed = await listPartitions(sql, { viewSet: 'log_entries', instance: 'global', begin: range[0], end: range[1] });
        const expected = INTERVALS.map((iv, i) => (overlaps(iv, range) ? `views/log_entries/global/p${i}.parquet` : null)).filter((p) => p !== null);
        assert.deepEqual(listed.map((p) => p.file_path).sort(), expected.sort(), `range [${range[0]}, ${range[1]})`);
      }
      // a one-sided filter keeps the plain comparison
      const from = await listPartitions(sql, { viewSet: 'log_entries', begin: 1000n });
      assert.deepEqual(from.map((p) => p.file_path), ['views/log_entries/global/p6.parquet']);
    });

    test('the blocks, streams and processes views select the rows whose blocks overlap the range', async () => {
      for (const range of RANGES) {
        const expected = INTERVALS.map((iv, i) => (overlaps(iv, range) ? i : -1)).filter((i) => i >= 0);
        for (const [view, id, prefix] of [['blocks', 'block_id', 'b'], ['streams', 'stream_id', 's'], ['processes', 'process_id', 'p']] as const) {
          await loadMetadataView(conn, sql, view, { begin: range[0], end: range[1] });
          const rows = (await conn.runAndReadAll(`SELECT ${id} FROM ${view} ORDER BY ${id}`)).getRowObjects().map((r) => String(r[id]));
          assert.deepEqual(rows, expected.map((i) => `${prefix}${i}`).sort(), `${view} over [${range[0]}, ${range[1]})`);
        }
      }
    });

    test('a process started inside the range is listed without blocks there, with its latest block', async () => {
      await sql.query(`INSERT INTO processes (process_id, exe, username, realname, computer, distro, cpu_brand, tsc_frequency, start_time, start_ticks, insert_time)
                       VALUES ('late', 'e', 'u', 'r', 'c', 'd', 'cpu', 1, 7000, 0, 7000)`);
      await loadMetadataView(conn, sql, 'processes', { begin: 6000n, end: 8000n });
      const rows = (await conn.runAndReadAll(`SELECT process_id FROM processes`)).getRowObjects().map((r) => String(r.process_id));
      assert.deepEqual(rows, ['late']);
      await loadMetadataView(conn, sql, 'processes', { begin: 0n, end: 100n });
      const p4 = (await conn.runAndReadAll(`SELECT epoch_ns(last_update_time) AS u, epoch_ns(last_block_end_time) AS e FROM processes WHERE process_id = 'p4'`)).getRowObjects()[0]!;
      assert.equal(String(p4.u), '5004');
      assert.equal(String(p4.e), '500');
    });

    test('each time look-up can be answered from its GiST index', async () => {
      const plans = await sql.transaction(async (tx) => {
        // Only the interval condition, with sequential scans priced out: a plan without the index then means the
        // expressions differ. (Which index the planner picks for the whole statement depends on the table's
        // size and statistics; the lake-scale bench prints those plans.)
        await tx.query('SET LOCAL enable_seqscan = off');
        const explain = async (table: string, lo: string, hi: string) => {
          const where = `${rowIntervalSql(lo, hi)} && int8range($1::bigint, $2::bigint, '[]')`;
          return (await tx.query<Record<string, string>>(`EXPLAIN SELECT 1 FROM ${table} WHERE ${where}`, [100n, 200n])).map((r) => Object.values(r)[0]).join('\n');
        };
        assert.ok(overlapSql('min_event_time', 'max_event_time', '$1', '$2').startsWith(rowIntervalSql('min_event_time', 'max_event_time')));
        return {
          partitions: await explain('lakehouse_partitions', 'min_event_time', 'max_event_time'),
          blocks: await explain('blocks', 'begin_time', 'end_time'),
        };
      });
      assert.match(plans.partitions, /lakehouse_partitions_event_range/);
      assert.match(plans.blocks, /blocks_event_range/);
    });
  });
}
