/**
 * A real HTTP server on loopback serving `/api/query` over a real engine, with a few known log rows
 * written as a partition (so queries return data without the daemon).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { DuckDBInstance } from '@duckdb/node-api';
import { startEngine, type EngineFixture } from '../analytics/engine-fixture.js';
import { createQueryRoutes } from '../../src/endpoints/http-query.js';
import { insertPartition } from '../../src/lakehouse/partition-repository.js';
import { partitionKey, putPartitionObject } from '../../src/lakehouse/partition-files.js';

export const DAY = 1_714_521_600_000_000_000n; // 2024-05-01T00:00:00Z

export interface QueryServer {
  url: string;
  engine: EngineFixture;
  close(): Promise<void>;
}

/** 10 log rows at DAY + i seconds + 123 ns, level 1 + i % 6, msg 'm<i>' */
export async function startQueryServer(opts: { timeoutMs?: number } = {}): Promise<QueryServer> {
  const f = await startEngine({ objectStore: 'file', limits: { timeoutMs: opts.timeoutMs ?? 30_000 } });
  const duck = await DuckDBInstance.create(':memory:');
  const c = await duck.connect();
  const path = join(f.dir, 'seed.parquet');
  await c.run(`COPY (SELECT 'p1' AS process_id, 's1' AS stream_id, 'b1' AS block_id, make_timestamp_ns(${DAY}::BIGINT) AS insert_time,
      'exe' AS exe, 'u' AS username, 'c' AS computer, make_timestamp_ns(${DAY}::BIGINT + i * 1000000000::BIGINT + 123) AS time,
      't' AS target, (i % 6 + 1)::INTEGER AS level, 'm' || i AS msg, MAP {'i': i::VARCHAR} AS properties,
      NULL::MAP(VARCHAR, VARCHAR) AS process_properties FROM range(10) r(i)) TO '${path}' (FORMAT parquet)`);
  c.closeSync();
  duck.closeSync();
  const key = partitionKey('log_entries', 'global', DAY, DAY + 60_000_000_000n);
  const body = await readFile(path);
  await putPartitionObject(f.lake, key, body);
  await insertPartition(f.lake.sql, {
    view_set: 'log_entries', view_instance: 'global', begin_insert_time: DAY, end_insert_time: DAY + 60_000_000_000n,
    min_event_time: DAY, max_event_time: DAY + 9_000_000_123n, file_path: key, file_size: body.byteLength, num_rows: 10,
    file_schema_hash: 'test', source_data_hash: 'seed', created_time: DAY,
  });
  const app = new Hono();
  app.route('/api', createQueryRoutes({ engine: f.engine }));
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }) as Server;
    s.once('listening', () => resolve(s));
    s.once('error', reject);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    engine: f,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await f.close();
    },
  };
}
