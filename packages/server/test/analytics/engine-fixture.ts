/**
 * A real query engine over a real (in-memory PGlite + memory object store, or file store) lake and the real
 * lakehouse, for tests that do not need ingestion.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLake, type OpenedLake } from '../../src/lake/open-lake.js';
import { createLakehouse } from '../../src/lakehouse/index.js';
import { createQueryEngine, type QueryEngine, type QueryLimits } from '../../src/analytics/query-engine.js';

export interface EngineFixture {
  lake: OpenedLake;
  engine: QueryEngine;
  dir: string;
  close(): Promise<void>;
}

export async function startEngine(opts: { objectStore?: 'memory' | 'file'; limits?: QueryLimits; sql?: string } = {}): Promise<EngineFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'sirius-analytics-'));
  const lake = await openLake({
    sqlConnectionString: opts.sql ?? 'memory://',
    dataDir: dir,
    objectStoreUri: opts.objectStore === 'file' ? `file://${join(dir, 'objects')}` : 'memory://',
  });
  const lakehouse = createLakehouse({ lake, dataDir: dir });
  const engine = await createQueryEngine({ lake, lakehouse, cacheDir: join(dir, 'cache'), limits: opts.limits });
  return {
    lake,
    engine,
    dir,
    async close() {
      await engine.close();
      await lake.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** the rows of an Arrow table as plain objects (test-sized results only) */
export function rowsOf(table: { toArray(): { toJSON(): Record<string, unknown> }[] }): Record<string, unknown>[] {
  return table.toArray().map((r) => r.toJSON());
}
