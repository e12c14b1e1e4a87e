/**
 * Gathers block rows arriving concurrently (one per HTTP request) into one multi-row INSERT. Each caller
 * awaits the commit of the batch holding its row, so a 200 answer still means "the row is committed".
 * A caller also learns whether the stored row is of its stream and process: a block id is unique across
 * the lake, so the same id sent for another stream must not pass as stored.
 * A batch goes out when `lingerMs` has passed since its first row or when it holds `maxRows` rows.
 *
 * @example
 *   const batcher = new BlockBatcher(sql);
 *   const mine = await batcher.insert(row); // resolves once committed; false: the id belongs to another stream
 *   await batcher.close();     // flushes what is pending
 */
import { blockOwners, insertBlockRows, type BlockRecord } from './block-repository.js';
import type { SqlClient } from './sql-client.js';

export interface BlockBatcherOptions {
  /** how long the first row of a batch waits for company (default 2 ms) */
  lingerMs?: number;
  /** rows that trigger an immediate flush (default 256) */
  maxRows?: number;
}

interface Pending {
  row: BlockRecord;
  resolve: (mine: boolean) => void;
  reject: (err: unknown) => void;
}

export class BlockBatcher {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight = new Set<Promise<void>>();
  private closed = false;
  private readonly lingerMs: number;
  private readonly maxRows: number;

  constructor(
    private readonly sql: SqlClient,
    opts: BlockBatcherOptions = {},
  ) {
    this.lingerMs = opts.lingerMs ?? 2;
    this.maxRows = opts.maxRows ?? 256;
  }

  /**
   * Resolves when the row is committed or was already there: true when the stored row has this row's stream
   * and process, false when the id is stored for another. Rejects with the batch's error.
   */
  insert(row: BlockRecord): Promise<boolean> {
    if (this.closed) return Promise.reject(new Error('the block batcher is closed'));
    return new Promise<boolean>((resolve, reject) => {
      this.pending.push({ row, resolve, reject });
      if (this.pending.length >= this.maxRows) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.lingerMs);
    });
  }

  /** Sends everything pending now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const job = this.write(batch);
    this.inFlight.add(job);
    void job.finally(() => this.inFlight.delete(job));
  }

  /** Flushes pending rows and waits for every batch in flight; later inserts are refused. */
  async close(): Promise<void> {
    this.closed = true;
    this.flush();
    await Promise.all([...this.inFlight]);
  }

  private async write(batch: Pending[]): Promise<void> {
    // one id twice in one INSERT … ON CONFLICT would be an error: keep the first occurrence
    const unique = new Map<string, BlockRecord>();
    for (const p of batch) if (!unique.has(p.row.block_id)) unique.set(p.row.block_id, p.row);
    try {
      const inserted = await insertBlockRows(this.sql, [...unique.values()]);
      // rows already present are retries, or an id reused for another stream: only those cost a lookup
      const owners = new Map<string, { stream_id: string; process_id: string }>();
      for (const [id, r] of unique) if (inserted.has(id)) owners.set(id, r);
      const known = await blockOwners(this.sql, [...unique.keys()].filter((id) => !inserted.has(id)));
      for (const [id, o] of known) owners.set(id, o);
      for (const p of batch) {
        const o = owners.get(p.row.block_id);
        // absent: inserted and deleted since (retention), so not another stream's
        p.resolve(o === undefined || (o.stream_id === p.row.stream_id && o.process_id === p.row.process_id));
      }
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}
