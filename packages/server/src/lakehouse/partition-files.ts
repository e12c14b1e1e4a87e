/**
 * Where partition objects and scratch files go. Object keys follow the contract
 * `views/<view_set>/<instance>/<begin>_<end>_<file_id>.parquet`; the random file id makes every write a new
 * key, so an object is never overwritten and a retried step never collides with a crashed one.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { sqlString, withConnection } from './duckdb-engine.js';
import { quoteIdent } from './view-columns.js';
import type { ObjectStore } from '../lake/object-store.js';
import type { Lake } from '../lake/lake.js';
import { schedulePartitionObject, unscheduleDeletions } from './partition-repository.js';

export function partitionKey(viewSet: string, instance: string, begin: bigint, end: bigint): string {
  return `views/${viewSet}/${instance}/${begin}_${end}_${randomBytes(8).toString('hex')}.parquet`;
}

const scratchDir = (dataDir: string) => join(dataDir, 'tmp', 'lakehouse');

/** A fresh local path for a scratch Parquet file under `<dataDir>/tmp/lakehouse`. */
export function scratchPath(dataDir: string, label: string): string {
  const dir = scratchDir(dataDir);
  mkdirSync(dir, { recursive: true });
  return join(dir, `${label.replace(/[^A-Za-z0-9_-]/g, '_')}-${randomBytes(8).toString('hex')}.parquet`);
}

/**
 * Removes scratch files last written over `maxAgeMs` ago: each step removes its own, but a killed process
 * cannot. Files in use are younger (a step's file lives for seconds), and any process sharing the data dir may
 * sweep. Returns how many were removed.
 */
export async function sweepScratch(dataDir: string, maxAgeMs = 3_600_000): Promise<number> {
  let names: string[];
  try {
    names = await readdir(scratchDir(dataDir));
  } catch {
    return 0; // no scratch folder yet
  }
  let removed = 0;
  for (const name of names) {
    const path = join(scratchDir(dataDir), name);
    const s = await stat(path).catch(() => null);
    if (s?.isFile() && Date.now() - s.mtimeMs > maxAgeMs) {
      await rm(path, { force: true });
      removed++;
    }
  }
  return removed;
}

export async function removeFile(path: string): Promise<void> {
  await rm(path, { force: true });
}

export interface FileStats {
  numRows: number;
  fileSize: number;
  minTime: bigint | null;
  maxTime: bigint | null;
}

/** Row count and event-time bounds of a local Parquet file (read from its footer statistics). */
export async function fileStats(path: string, timeColumn: string | null, timeEndColumn?: string): Promise<FileStats> {
  const size = (await stat(path)).size;
  return withConnection(async (c) => {
    const t = timeColumn ? quoteIdent(timeColumn) : null;
    const te = timeEndColumn ? quoteIdent(timeEndColumn) : t;
    const sel = t ? `count(*)::BIGINT, epoch_ns(min(${t}))::BIGINT, epoch_ns(max(${te}))::BIGINT` : 'count(*)::BIGINT, NULL, NULL';
    const r = await c.runAndReadAll(`SELECT ${sel} FROM read_parquet(${sqlString(path)})`);
    const [n, lo, hi] = r.getRows()[0]! as [bigint, bigint | null, bigint | null];
    return { numRows: Number(n), fileSize: size, minTime: lo, maxTime: hi };
  });
}

/**
 * Writes a partition object under a new key, its deletion scheduled first (`schedulePartitionObject`): a writer
 * that dies before committing the partition's row leaves an object the purge deletes, not one kept forever.
 */
export async function putPartitionObject(lake: Lake, key: string, body: Uint8Array): Promise<void> {
  await schedulePartitionObject(lake.sql, key);
  await lake.objects.put(key, body);
}

/** Deletes partition objects their writer decided not to commit, and their scheduled deletion with them. */
export async function discardPartitionObjects(lake: Lake, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  await lake.objects.delete(keys);
  await unscheduleDeletions(lake.sql, keys);
}

/** `putPartitionObject` of a local file. */
export async function uploadPartition(lake: Lake, path: string, key: string): Promise<void> {
  await putPartitionObject(lake, key, await readFile(path));
}

/** A local path DuckDB can read for an object: the store's own file when it has one, else a downloaded copy. */
export async function localCopy(objects: ObjectStore, key: string, dataDir: string): Promise<{ path: string; release(): Promise<void> }> {
  const direct = objects.localPath(key);
  if (direct) return { path: direct, release: async () => {} };
  const path = scratchPath(dataDir, 'copy');
  const { writeFile } = await import('node:fs/promises');
  await writeFile(path, await objects.get(key));
  return { path, release: () => removeFile(path) };
}

/** Local copies of many objects; `release` removes the downloaded ones. */
export async function localCopies(objects: ObjectStore, keys: readonly string[], dataDir: string): Promise<{ paths: string[]; release(): Promise<void> }> {
  const copies = await Promise.all(keys.map((k) => localCopy(objects, k, dataDir)));
  return {
    paths: copies.map((c) => c.path),
    release: async () => {
      await Promise.all(copies.map((c) => c.release()));
    },
  };
}

/** `read_parquet([...])` over local files, for DuckDB statements. */
export function readParquetSql(paths: readonly string[]): string {
  return `read_parquet([${paths.map(sqlString).join(', ')}])`;
}
