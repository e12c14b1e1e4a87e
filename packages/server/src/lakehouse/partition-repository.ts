/**
 * Rows of `lakehouse_partitions`, watermarks and retired objects. Everything that changes what readers see
 * (adding partitions, replacing them, moving a watermark) takes a transaction handle, so callers compose the
 * changes into one commit. Those commits are kept short: files are built and uploaded between transactions,
 * never inside one (on PGlite a transaction holds the only session, and ingestion would wait for it).
 *
 * `lakehouse_retired_objects` lists objects to delete once their time (plus the purge's grace) has passed:
 * objects of partitions replaced or expired, and every partition object being written, scheduled before it is
 * uploaded (`schedulePartitionObject`) and claimed back by the commit of its row (`insertPartition`). So an
 * object whose writer died before that commit is deleted in time, and none is deleted that a row points to.
 */
import { nowNs } from '../clock.js';
import { overlapSql } from '../lake/event-range.js';
import type { SqlClient } from '../lake/sql-client.js';

/** how long a partition object may wait for its row before the purge may delete it */
export const ABANDONED_AFTER_NS = 3_600_000_000_000n;

/**
 * Schedules the deletion of a partition object about to be written, ABANDONED_AFTER_NS from now, unless the
 * commit of its row claims it first. Its own statement, before the upload: the schedule must outlive a crash.
 */
export async function schedulePartitionObject(sql: SqlClient, key: string): Promise<void> {
  await sql.query('INSERT INTO lakehouse_retired_objects (file_path, retired_time) VALUES ($1, $2)', [key, nowNs() + ABANDONED_AFTER_NS]);
}

/** Takes objects off the deletion schedule: the purge deleted them, or their writer did (it will not commit them). */
export async function unscheduleDeletions(sql: SqlClient, keys: readonly string[]): Promise<void> {
  await sql.query('DELETE FROM lakehouse_retired_objects WHERE file_path = ANY($1::text[])', [keys]);
}

export interface PartitionRecord {
  view_set: string;
  view_instance: string;
  begin_insert_time: bigint;
  end_insert_time: bigint;
  min_event_time: bigint;
  max_event_time: bigint;
  /** object key */
  file_path: string;
  file_size: number;
  num_rows: number;
  file_schema_hash: string;
  source_data_hash: string;
  created_time: bigint;
}

const COLUMNS =
  'view_set, view_instance, begin_insert_time, end_insert_time, min_event_time, max_event_time, file_path, file_size, num_rows, file_schema_hash, source_data_hash, created_time';

/**
 * Adds a partition row, claiming its object from the deletion `schedulePartitionObject` set. Refused (throws)
 * when the object is not awaiting its row any more (its time passed: the purge may be deleting it) or never was.
 */
export async function insertPartition(tx: SqlClient, p: PartitionRecord): Promise<void> {
  const claimed = await tx.query('DELETE FROM lakehouse_retired_objects WHERE file_path = $1 AND retired_time > $2 RETURNING file_path', [p.file_path, nowNs()]);
  if (claimed.length !== 1) {
    throw new Error(`partition object ${p.file_path} is not awaiting its row (scheduled over an hour ago, or never): not committing it`);
  }
  await tx.query(`INSERT INTO lakehouse_partitions (${COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)`, [
    p.view_set, p.view_instance, p.begin_insert_time, p.end_insert_time, p.min_event_time, p.max_event_time,
    p.file_path, p.file_size, p.num_rows, p.file_schema_hash, p.source_data_hash, p.created_time,
  ]);
}

/**
 * Removes partition rows (readers stop seeing them at commit) and queues their objects for deletion after
 * the grace period. Returns how many rows were removed.
 */
export async function retirePartitions(tx: SqlClient, filePaths: readonly string[], now: bigint): Promise<number> {
  if (filePaths.length === 0) return 0;
  const rows = await tx.query(`DELETE FROM lakehouse_partitions WHERE file_path = ANY($1::text[]) RETURNING file_path`, [filePaths]);
  await tx.query(
    `INSERT INTO lakehouse_retired_objects (file_path, retired_time) SELECT unnest($1::text[]), $2 ON CONFLICT (file_path) DO NOTHING`,
    [filePaths, now],
  );
  return rows.length;
}

export interface PartitionFilter {
  viewSet?: string;
  instance?: string;
  /** keep partitions whose event times overlap [begin, end) */
  begin?: bigint;
  end?: bigint;
  /** keep partitions whose insert range ends at or before this */
  endInsertBefore?: bigint;
}

export async function listPartitions(sql: SqlClient, f: PartitionFilter = {}): Promise<PartitionRecord[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (cond: string, v: unknown) => {
    params.push(v);
    where.push(cond.replace('?', `$${params.length}`));
  };
  if (f.viewSet !== undefined) add('view_set = ?', f.viewSet);
  if (f.instance !== undefined) add('view_instance = ?', f.instance);
  if (f.begin !== undefined && f.end !== undefined) {
    // both sides bounded: the GiST index of migration 4 answers the overlap without walking either side
    params.push(f.begin, f.end);
    where.push(overlapSql('min_event_time', 'max_event_time', `$${params.length - 1}`, `$${params.length}`));
  } else {
    if (f.end !== undefined) add('min_event_time < ?', f.end);
    if (f.begin !== undefined) add('max_event_time >= ?', f.begin);
  }
  if (f.endInsertBefore !== undefined) add('end_insert_time <= ?', f.endInsertBefore);
  const rows = await sql.query<Record<string, unknown>>(
    `SELECT ${COLUMNS} FROM lakehouse_partitions ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
     ORDER BY view_set, view_instance, begin_insert_time, file_path`,
    params,
  );
  return rows.map(toPartitionRecord);
}

export function toPartitionRecord(r: Record<string, unknown>): PartitionRecord {
  return {
    view_set: String(r.view_set),
    view_instance: String(r.view_instance),
    begin_insert_time: BigInt(r.begin_insert_time as string),
    end_insert_time: BigInt(r.end_insert_time as string),
    min_event_time: BigInt(r.min_event_time as string),
    max_event_time: BigInt(r.max_event_time as string),
    file_path: String(r.file_path),
    file_size: Number(r.file_size),
    num_rows: Number(r.num_rows),
    file_schema_hash: String(r.file_schema_hash),
    source_data_hash: String(r.source_data_hash),
    created_time: BigInt(r.created_time as string),
  };
}

/** The insert time up to which blocks are accounted for, or null when the view never ran. */
export async function getWatermark(sql: SqlClient, viewSet: string, instance: string): Promise<bigint | null> {
  const [r] = await sql.query<{ watermark: string }>(
    'SELECT watermark FROM lakehouse_watermarks WHERE view_set = $1 AND view_instance = $2',
    [viewSet, instance],
  );
  return r ? BigInt(r.watermark) : null;
}

export async function setWatermark(tx: SqlClient, viewSet: string, instance: string, watermark: bigint): Promise<void> {
  await tx.query(
    `INSERT INTO lakehouse_watermarks (view_set, view_instance, watermark) VALUES ($1, $2, $3)
     ON CONFLICT (view_set, view_instance) DO UPDATE SET watermark = EXCLUDED.watermark`,
    [viewSet, instance, watermark],
  );
}

/**
 * Takes a transaction-scoped advisory lock named by `key`, or returns false at once when another session
 * holds it: a daemon planning a step skips the view rather than queue behind another daemon's short
 * transaction. The lock ends with the transaction, so it guards the planning or the commit of a step, not
 * the file building in between (that is checked again at commit, see `lock`).
 */
export async function tryLock(tx: SqlClient, key: string): Promise<boolean> {
  const [r] = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock(hashtext($1)) AS ok', [`sirius.lakehouse:${key}`]);
  return r?.ok === true;
}

/**
 * Takes the same lock as `tryLock`, waiting for it: the commit of a step whose file is already built waits
 * the few milliseconds another daemon's planning or commit takes instead of throwing the file away. Every
 * holder is a short transaction that takes no other lock, so the wait is brief and cannot deadlock.
 */
export async function lock(tx: SqlClient, key: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`sirius.lakehouse:${key}`]);
}

/** Which of `filePaths` still have a partition row (compaction and retention remove rows). */
export async function livePartitionPaths(sql: SqlClient, filePaths: readonly string[]): Promise<Set<string>> {
  if (filePaths.length === 0) return new Set();
  const rows = await sql.query<{ file_path: string }>('SELECT file_path FROM lakehouse_partitions WHERE file_path = ANY($1::text[])', [filePaths]);
  return new Set(rows.map((r) => r.file_path));
}
