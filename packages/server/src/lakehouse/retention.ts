/**
 * Retention: deletes what ended before `now - retention` — blocks (rows, then objects), partitions (rows now,
 * objects after the grace period) and processes/streams left without blocks — in bounded batches, so a large
 * backlog never holds one long transaction. Rows go before objects: a crash in between leaves unreferenced
 * objects, never rows pointing at nothing.
 *
 * @example
 *   await expireData(lake, parseDuration('90d'));
 */
import { nowNs } from '../clock.js';
import { blobKey } from '../lake/object-store.js';
import { retirePartitions } from './partition-repository.js';
import type { Lake } from '../lake/lake.js';

export interface ExpireResult {
  blocks: number;
  partitions: number;
  streams: number;
  processes: number;
}

const UNITS: Record<string, bigint> = { s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n, d: 86_400_000_000_000n, w: 604_800_000_000_000n };

/** `90d`, `12h`, `30m`, `45s`, `2w` → nanoseconds. */
export function parseDuration(text: string): bigint {
  const m = /^\s*(\d+)\s*([smhdw])\s*$/.exec(text);
  if (!m) throw new RangeError(`bad duration ${JSON.stringify(text)}: want a number and a unit among s, m, h, d, w (e.g. 90d)`);
  return BigInt(m[1]!) * UNITS[m[2]!]!;
}

export async function expireData(lake: Lake, retentionNs: bigint, opts: { batch?: number; now?: bigint } = {}): Promise<ExpireResult> {
  if (retentionNs <= 0n) throw new RangeError('retention must be positive');
  const batch = opts.batch ?? 1000;
  const now = opts.now ?? nowNs();
  const cutoff = now - retentionNs;
  const result: ExpireResult = { blocks: 0, partitions: 0, streams: 0, processes: 0 };
  for (;;) {
    const rows = await lake.sql.query<{ block_id: string; stream_id: string; process_id: string }>(
      `DELETE FROM blocks WHERE block_id IN (SELECT block_id FROM blocks WHERE end_time < $1 ORDER BY end_time LIMIT $2)
       RETURNING block_id, stream_id, process_id`,
      [cutoff, batch],
    );
    if (rows.length > 0) await lake.objects.delete(rows.map((r) => blobKey(r.process_id, r.stream_id, r.block_id)));
    result.blocks += rows.length;
    if (rows.length < batch) break;
  }
  for (;;) {
    const n = await lake.sql.transaction(async (tx) => {
      const rows = await tx.query<{ file_path: string }>(
        'SELECT file_path FROM lakehouse_partitions WHERE max_event_time < $1 ORDER BY max_event_time LIMIT $2',
        [cutoff, batch],
      );
      return retirePartitions(tx, rows.map((r) => r.file_path), now);
    });
    result.partitions += n;
    if (n < batch) break;
  }
  const streams = await lake.sql.query(
    `DELETE FROM streams s WHERE s.insert_time < $1 AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.stream_id = s.stream_id)
     RETURNING stream_id`,
    [cutoff],
  );
  result.streams = streams.length;
  const processes = await lake.sql.query(
    `DELETE FROM processes p WHERE p.insert_time < $1 AND NOT EXISTS (SELECT 1 FROM streams s WHERE s.process_id = p.process_id)
       AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.process_id = p.process_id)
     RETURNING process_id`,
    [cutoff],
  );
  result.processes = processes.length;
  return result;
}
