/**
 * A bounded local disk cache for objects DuckDB must read as files (Parquet partitions kept in S3).
 * Least-recently-used by bytes; objects in use by a running query are pinned and never evicted under it.
 * Objects are immutable (written once), so a cached copy never goes stale.
 *
 * @example
 *   const cache = await createObjectCache({ dir: '.sirius/cache', maxBytes: 2 ** 30, objects });
 *   const lease = await cache.acquire(['views/log_entries/global/…parquet']);
 *   // read lease.paths[0] with DuckDB …
 *   lease.release();
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ObjectStore } from '../lake/object-store.js';

export interface ObjectCacheOptions {
  dir: string;
  /** total bytes kept on disk (pinned objects may exceed it while a query runs) */
  maxBytes: number;
  objects: ObjectStore;
}

export interface CacheLease {
  /** local file paths, in the order of the keys */
  paths: string[];
  /** how many keys were already on disk */
  hits: number;
  release(): void;
}

export interface ObjectCache {
  acquire(keys: readonly string[]): Promise<CacheLease>;
  /** bytes currently on disk */
  readonly sizeBytes: number;
  readonly maxBytes: number;
}

interface Entry {
  path: string;
  size: number;
  pins: number;
  ready: Promise<void>;
  failed: boolean;
}

export async function createObjectCache(opts: ObjectCacheOptions): Promise<ObjectCache> {
  // a previous run's files are not tracked: start empty rather than trust them
  await rm(opts.dir, { recursive: true, force: true });
  await mkdir(opts.dir, { recursive: true });
  const entries = new Map<string, Entry>(); // insertion order = recency (oldest first)
  let sizeBytes = 0;

  const evict = async () => {
    const victims: Entry[] = [];
    for (const [key, e] of entries) {
      if (sizeBytes <= opts.maxBytes) break;
      if (e.pins > 0 || e.size === 0) continue;
      entries.delete(key);
      sizeBytes -= e.size;
      victims.push(e);
    }
    await Promise.all(victims.map((e) => rm(e.path, { force: true })));
  };

  const fetchInto = async (key: string, e: Entry) => {
    const body = await opts.objects.get(key);
    const tmp = `${e.path}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, body);
    await rename(tmp, e.path);
    e.size = body.byteLength;
    sizeBytes += e.size;
  };

  return {
    get sizeBytes() {
      return sizeBytes;
    },
    maxBytes: opts.maxBytes,
    async acquire(keys) {
      const taken: Entry[] = [];
      let hits = 0;
      try {
        for (const key of keys) {
          let e = entries.get(key);
          if (e && !e.failed) {
            hits++;
            entries.delete(key); // move to the most recent end
            entries.set(key, e);
          } else {
            const path = join(opts.dir, encodeURIComponent(key));
            const fresh: Entry = { path, size: 0, pins: 0, ready: Promise.resolve(), failed: false };
            fresh.ready = fetchInto(key, fresh).catch((err: unknown) => {
              fresh.failed = true;
              if (entries.get(key) === fresh) entries.delete(key);
              throw err;
            });
            entries.set(key, fresh);
            e = fresh;
          }
          e.pins++;
          taken.push(e);
        }
        await Promise.all(taken.map((e) => e.ready));
      } catch (err) {
        for (const e of taken) e.pins--;
        throw err;
      }
      await evict();
      let released = false;
      return {
        paths: taken.map((e) => e.path),
        hits,
        release() {
          if (released) return;
          released = true;
          for (const e of taken) e.pins--;
          void evict();
        },
      };
    },
  };
}
