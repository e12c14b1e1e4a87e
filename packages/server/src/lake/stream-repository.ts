/**
 * The `streams` table. Like processes, inserting the same stream id again is a no-op.
 */
import type { StreamInfo } from '@sirius/transit';
import { nowNs } from '../clock.js';
import type { SqlClient } from './sql-client.js';

export interface StreamRecord extends StreamInfo {
  dependencies_metadata: Uint8Array | null;
  objects_metadata: Uint8Array | null;
  insert_time: bigint;
}

/** Returns true when the row was inserted, false when the id already existed. */
export async function insertStream(sql: SqlClient, s: StreamInfo): Promise<boolean> {
  const rows = await sql.query(
    `INSERT INTO streams (stream_id, process_id, tags, properties, insert_time)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (stream_id) DO NOTHING
     RETURNING stream_id`,
    [s.stream_id, s.process_id, s.tags, JSON.stringify(s.properties ?? {}), nowNs()],
  );
  return rows.length === 1;
}

export async function getStream(sql: SqlClient, streamId: string): Promise<StreamRecord | null> {
  const [r] = await sql.query<Record<string, unknown>>('SELECT * FROM streams WHERE stream_id = $1', [streamId]);
  if (!r) return null;
  return {
    stream_id: String(r.stream_id),
    process_id: String(r.process_id),
    tags: (r.tags ?? []) as string[],
    properties: (r.properties ?? {}) as Record<string, string>,
    dependencies_metadata: (r.dependencies_metadata as Uint8Array | null) ?? null,
    objects_metadata: (r.objects_metadata as Uint8Array | null) ?? null,
    insert_time: BigInt(r.insert_time as string),
  };
}

/** The owning process of each known stream among `streamIds` (absent ids are missing from the map). */
export async function streamOwners(sql: SqlClient, streamIds: readonly string[]): Promise<Map<string, string>> {
  const rows = await sql.query<{ stream_id: string; process_id: string }>(
    'SELECT stream_id, process_id FROM streams WHERE stream_id = ANY($1::text[])',
    [streamIds],
  );
  return new Map(rows.map((r) => [r.stream_id, r.process_id]));
}
