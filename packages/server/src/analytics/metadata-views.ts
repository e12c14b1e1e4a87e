/**
 * The `processes`, `streams` and `blocks` views: read from the SQL metadata store for the query's time
 * range and loaded into connection-local DuckDB tables, so they join with the Parquet views.
 *
 * Range semantics: blocks overlapping [begin, end); processes and streams with activity in the range
 * (a block overlapping it, or started/created inside it). The `last_*` columns describe the blocks that
 * began before the range end (what was known as of `end`): the latest insert, and the end of the block
 * that ends last.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { overlapSql } from '../lake/event-range.js';
import type { SqlClient } from '../lake/sql-client.js';
import type { TimeRange } from '../lakehouse/lakehouse.js';

export type MetadataView = 'processes' | 'streams' | 'blocks';

type Kind = 'text' | 'int' | 'json' | 'blob';

interface TableDef {
  select: string;
  raw: [string, Kind][];
  /** the view over the raw table, turning ns integers into timestamps and JSON into maps */
  view: string;
}

const ts = (c: string) => `make_timestamp_ns(${c}) AS ${c}`;
const map = (c: string) => `CAST(CAST(${c} AS JSON) AS MAP(VARCHAR, VARCHAR)) AS ${c}`;

const DEFS: Record<MetadataView, TableDef> = {
  processes: {
    // from the blocks in the range and the processes started in it, never from every process; each one's
    // latest block read from the newest end of an index (migration 4), not aggregated over its history
    select: `
      WITH picked AS (
        SELECT process_id FROM blocks WHERE ${overlapSql('begin_time', 'end_time', '$1', '$2')}
        UNION
        SELECT process_id FROM processes WHERE start_time >= $1 AND start_time < $2
      )
      SELECT p.process_id, p.exe, p.username, p.realname, p.computer, p.distro, p.cpu_brand, p.tsc_frequency,
             p.start_time, p.start_ticks, p.insert_time, p.parent_process_id, p.properties,
             b.last_update_time, l.last_block_end_ticks, l.last_block_end_time
      FROM picked JOIN processes p ON p.process_id = picked.process_id
      LEFT JOIN LATERAL (
        SELECT insert_time AS last_update_time FROM blocks
        WHERE blocks.process_id = p.process_id AND blocks.begin_time < $2 ORDER BY insert_time DESC LIMIT 1
      ) b ON true
      LEFT JOIN LATERAL (
        SELECT end_ticks AS last_block_end_ticks, end_time AS last_block_end_time FROM blocks
        WHERE blocks.process_id = p.process_id AND blocks.begin_time < $2 ORDER BY end_time DESC LIMIT 1
      ) l ON true
      ORDER BY p.start_time, p.process_id`,
    raw: [
      ['process_id', 'text'], ['exe', 'text'], ['username', 'text'], ['realname', 'text'], ['computer', 'text'],
      ['distro', 'text'], ['cpu_brand', 'text'], ['tsc_frequency', 'int'], ['start_time', 'int'], ['start_ticks', 'int'],
      ['insert_time', 'int'], ['parent_process_id', 'text'], ['properties', 'json'], ['last_update_time', 'int'],
      ['last_block_end_ticks', 'int'], ['last_block_end_time', 'int'],
    ],
    view: `SELECT process_id, exe, username, realname, computer, distro, cpu_brand, tsc_frequency, ${ts('start_time')},
             start_ticks, ${ts('insert_time')}, parent_process_id, ${map('properties')}, ${ts('last_update_time')},
             last_block_end_ticks, ${ts('last_block_end_time')}`,
  },
  streams: {
    select: `
      WITH picked AS (
        SELECT stream_id FROM blocks WHERE ${overlapSql('begin_time', 'end_time', '$1', '$2')}
        UNION
        SELECT stream_id FROM streams WHERE insert_time >= $1 AND insert_time < $2
      )
      SELECT s.stream_id, s.process_id, s.dependencies_metadata, s.objects_metadata, s.tags, s.properties, s.insert_time,
             b.last_update_time
      FROM picked JOIN streams s ON s.stream_id = picked.stream_id
      LEFT JOIN LATERAL (
        SELECT insert_time AS last_update_time FROM blocks
        WHERE blocks.stream_id = s.stream_id AND blocks.begin_time < $2 ORDER BY insert_time DESC LIMIT 1
      ) b ON true
      ORDER BY s.insert_time, s.stream_id`,
    raw: [
      ['stream_id', 'text'], ['process_id', 'text'], ['dependencies_metadata', 'blob'], ['objects_metadata', 'blob'],
      ['tags', 'json'], ['properties', 'json'], ['insert_time', 'int'], ['last_update_time', 'int'],
    ],
    view: `SELECT stream_id, process_id, dependencies_metadata, objects_metadata, CAST(CAST(tags AS JSON) AS VARCHAR[]) AS tags,
             ${map('properties')}, ${ts('insert_time')}, ${ts('last_update_time')}`,
  },
  blocks: {
    select: `
      SELECT block_id, stream_id, process_id, begin_time, begin_ticks, end_time, end_ticks, nb_objects, object_offset,
             payload_size, insert_time
      FROM blocks WHERE ${overlapSql('begin_time', 'end_time', '$1', '$2')}
      ORDER BY begin_time, block_id`,
    raw: [
      ['block_id', 'text'], ['stream_id', 'text'], ['process_id', 'text'], ['begin_time', 'int'], ['begin_ticks', 'int'],
      ['end_time', 'int'], ['end_ticks', 'int'], ['nb_objects', 'int'], ['object_offset', 'int'], ['payload_size', 'int'],
      ['insert_time', 'int'],
    ],
    view: `SELECT block_id, stream_id, process_id, ${ts('begin_time')}, begin_ticks, ${ts('end_time')}, end_ticks,
             CAST(nb_objects AS INTEGER) AS nb_objects, object_offset, payload_size, ${ts('insert_time')}`,
  },
};

const DUCK_TYPE: Record<Kind, string> = { text: 'VARCHAR', int: 'BIGINT', json: 'VARCHAR', blob: 'BLOB' };

/** Loads one metadata view for `range` into `conn` as a temporary view named `name`; returns its row count. */
export async function loadMetadataView(
  conn: DuckDBConnection,
  sql: SqlClient,
  view: MetadataView,
  range: TimeRange,
  name: string = view,
): Promise<number> {
  const def = DEFS[view];
  const rows = await sql.query<Record<string, unknown>>(def.select, [range.begin.toString(), range.end.toString()]);
  const raw = `__sirius_raw_${name}`;
  await conn.run(`CREATE OR REPLACE TEMP TABLE "${raw}" (${def.raw.map(([c, k]) => `"${c}" ${DUCK_TYPE[k]}`).join(', ')})`);
  if (rows.length > 0) {
    const app = await conn.createAppender(raw, 'main', 'temp');
    try {
      for (const row of rows) {
        for (const [col, kind] of def.raw) {
          const v = row[col];
          if (v === null || v === undefined) app.appendNull();
          else if (kind === 'text') app.appendVarchar(String(v));
          else if (kind === 'int') app.appendBigInt(BigInt(v as string | number | bigint));
          else if (kind === 'json') app.appendVarchar(typeof v === 'string' ? v : JSON.stringify(v));
          else app.appendBlob(v instanceof Uint8Array ? v : new TextEncoder().encode(String(v)));
        }
        app.endRow();
      }
      app.flushSync();
    } finally {
      app.closeSync();
    }
  }
  await conn.run(`CREATE OR REPLACE TEMP VIEW "${name}" AS ${def.view} FROM "${raw}"`);
  return rows.length;
}
