/**
 * The `processes` table. A process is sent once, but clients retry: inserting the same id again is a no-op
 * (the first row wins), so a retry never fails and never duplicates.
 */
import type { ProcessInfo } from '@sirius/transit';
import { nowNs } from '../clock.js';
import type { SqlClient } from './sql-client.js';

/** A stored process: what the client sent, plus when the server received it (ns since epoch). */
export interface ProcessRecord extends ProcessInfo {
  insert_time: bigint;
}

/** Returns true when the row was inserted, false when the id already existed. */
export async function insertProcess(sql: SqlClient, p: ProcessInfo): Promise<boolean> {
  const rows = await sql.query(
    `INSERT INTO processes (process_id, exe, username, realname, computer, distro, cpu_brand, tsc_frequency,
       start_time, start_ticks, parent_process_id, properties, insert_time)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
     ON CONFLICT (process_id) DO NOTHING
     RETURNING process_id`,
    [
      p.process_id, p.exe, p.username, p.realname, p.computer, p.distro, p.cpu_brand,
      BigInt(Math.round(p.tsc_frequency)).toString(), p.start_time, p.start_ticks, p.parent_process_id, JSON.stringify(p.properties ?? {}), nowNs(),
    ],
  );
  return rows.length === 1;
}

export async function getProcess(sql: SqlClient, processId: string): Promise<ProcessRecord | null> {
  const [r] = await sql.query<Record<string, unknown>>('SELECT * FROM processes WHERE process_id = $1', [processId]);
  return r ? toProcessRecord(r) : null;
}

function toProcessRecord(r: Record<string, unknown>): ProcessRecord {
  return {
    process_id: String(r.process_id),
    exe: String(r.exe),
    username: String(r.username),
    realname: String(r.realname),
    computer: String(r.computer),
    distro: String(r.distro),
    cpu_brand: String(r.cpu_brand),
    tsc_frequency: Number(r.tsc_frequency),
    start_time: String(r.start_time),
    start_ticks: String(r.start_ticks),
    parent_process_id: r.parent_process_id == null ? null : String(r.parent_process_id),
    properties: (r.properties ?? {}) as Record<string, string>,
    insert_time: BigInt(r.insert_time as string),
  };
}
