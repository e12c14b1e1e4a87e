/**
 * Hand tools over partitions, used by `sirius admin`: list them, and retire those of a view (optionally only
 * those whose events all precede a time). Retiring removes the rows now (queries stop reading the files at
 * commit) and queues the objects for deletion after the grace period. Retiring global partitions does not
 * move watermarks: the retired data is gone from the view until re-sent, which is what "retire" means.
 *
 * @example
 *   await retirePartitionsByHand(lake, { view: 'log_entries', before: 1700000000000000000n });
 */
import { nowNs } from '../clock.js';
import { listPartitions, retirePartitions, type PartitionRecord } from './partition-repository.js';
import type { Lake } from '../lake/lake.js';

export async function listPartitionsByHand(lake: Lake, opts: { view?: string } = {}): Promise<PartitionRecord[]> {
  return listPartitions(lake.sql, { viewSet: opts.view });
}

export async function retirePartitionsByHand(lake: Lake, opts: { view: string; before?: bigint; instance?: string }): Promise<number> {
  if (!opts.view) throw new RangeError('retire-partitions needs a view');
  return lake.sql.transaction(async (tx) => {
    const params: unknown[] = [opts.view];
    let where = 'view_set = $1';
    if (opts.before !== undefined) {
      params.push(opts.before);
      where += ` AND max_event_time < $${params.length}`;
    }
    if (opts.instance !== undefined) {
      params.push(opts.instance);
      where += ` AND view_instance = $${params.length}`;
    }
    const rows = await tx.query<{ file_path: string }>(`SELECT file_path FROM lakehouse_partitions WHERE ${where}`, params);
    return retirePartitions(tx, rows.map((r) => r.file_path), nowNs());
  });
}
