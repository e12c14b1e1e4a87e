/**
 * The `blocks` table: one row per block whose payload is already in the object store. Rows are written
 * in batches with one `unnest` INSERT (one round trip for many blocks); an id already present is skipped,
 * so retrying a block is harmless.
 */
import type { SqlClient } from './sql-client.js';

export interface BlockRecord {
  block_id: string;
  stream_id: string;
  process_id: string;
  begin_time: bigint;
  begin_ticks: bigint;
  end_time: bigint;
  end_ticks: bigint;
  nb_objects: number;
  object_offset: bigint;
  /** bytes of the stored object (the envelope as received) */
  payload_size: number;
  /**
   * When the row became visible, ns since epoch. Leave it undefined on insert to take the database clock
   * at the INSERT itself: a time taken earlier (before waiting for a busy PGlite session, say) could fall
   * behind a lakehouse watermark that has already moved on, and the block would never be materialized.
   */
  insert_time?: bigint;
}

/** The database clock in ns; the same expression stamps `blocks.insert_time`, so watermarks compare like with like. */
export const DB_CLOCK_NS = `((extract(epoch from clock_timestamp()) * 1000000)::bigint * 1000)`;

/** Reads the database clock (ns since epoch). */
export async function dbNowNs(sql: SqlClient): Promise<bigint> {
  const [r] = await sql.query<{ now: string }>(`SELECT ${DB_CLOCK_NS} AS now`);
  return BigInt(r!.now);
}

const COLUMNS = 'block_id, stream_id, process_id, begin_time, begin_ticks, end_time, end_ticks, nb_objects, object_offset, payload_size, insert_time';

/** Inserts rows, skipping ids already present. Returns how many rows were new. */
export async function insertBlocks(sql: SqlClient, blocks: readonly BlockRecord[]): Promise<number> {
  return (await insertBlockRows(sql, blocks)).size;
}

/** Inserts rows, skipping ids already present. Returns the ids of the rows that were new. */
export async function insertBlockRows(sql: SqlClient, blocks: readonly BlockRecord[]): Promise<Set<string>> {
  if (blocks.length === 0) return new Set();
  const col = <K extends keyof BlockRecord>(k: K) => blocks.map((b) => (b[k] === undefined ? null : String(b[k])));
  const rows = await sql.query<{ block_id: string }>(
    `INSERT INTO blocks (${COLUMNS})
     SELECT b, s, p, bt, bk, et, ek, n, o, ps, COALESCE(it, ${DB_CLOCK_NS})
     FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[],
                 $8::integer[], $9::bigint[], $10::bigint[], $11::bigint[]) AS t(b, s, p, bt, bk, et, ek, n, o, ps, it)
     ON CONFLICT (block_id) DO NOTHING
     RETURNING block_id`,
    [
      col('block_id'), col('stream_id'), col('process_id'), col('begin_time'), col('begin_ticks'), col('end_time'),
      col('end_ticks'), col('nb_objects'), col('object_offset'), col('payload_size'), col('insert_time'),
    ],
  );
  return new Set(rows.map((r) => r.block_id));
}

/** The stream and process of each stored block among `blockIds` (absent ids are missing from the map). */
export async function blockOwners(sql: SqlClient, blockIds: readonly string[]): Promise<Map<string, { stream_id: string; process_id: string }>> {
  if (blockIds.length === 0) return new Map();
  const rows = await sql.query<{ block_id: string; stream_id: string; process_id: string }>(
    'SELECT block_id, stream_id, process_id FROM blocks WHERE block_id = ANY($1::text[])',
    [blockIds],
  );
  return new Map(rows.map((r) => [r.block_id, { stream_id: r.stream_id, process_id: r.process_id }]));
}

export async function getBlock(sql: SqlClient, blockId: string): Promise<BlockRecord | null> {
  const [r] = await sql.query<Record<string, unknown>>(`SELECT ${COLUMNS} FROM blocks WHERE block_id = $1`, [blockId]);
  return r ? toBlockRecord(r) : null;
}

/** Blocks of a stream overlapping [begin, end) in event time, oldest first. */
export async function listStreamBlocks(sql: SqlClient, streamId: string, begin: bigint, end: bigint): Promise<BlockRecord[]> {
  const rows = await sql.query<Record<string, unknown>>(
    `SELECT ${COLUMNS} FROM blocks WHERE stream_id = $1 AND begin_time < $3 AND end_time >= $2 ORDER BY begin_time, block_id`,
    [streamId, begin, end],
  );
  return rows.map(toBlockRecord);
}

export function toBlockRecord(r: Record<string, unknown>): BlockRecord {
  return {
    block_id: String(r.block_id),
    stream_id: String(r.stream_id),
    process_id: String(r.process_id),
    begin_time: BigInt(r.begin_time as string),
    begin_ticks: BigInt(r.begin_ticks as string),
    end_time: BigInt(r.end_time as string),
    end_ticks: BigInt(r.end_ticks as string),
    nb_objects: Number(r.nb_objects),
    object_offset: BigInt(r.object_offset as string),
    payload_size: Number(r.payload_size),
    insert_time: BigInt(r.insert_time as string),
  };
}
