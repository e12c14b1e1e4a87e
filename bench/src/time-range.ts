/**
 * What reading a query's time range from its own predicates costs per query (time-range-resolver.ts:
 * DuckDB parses the SQL to JSON and evaluates the bounds), next to an explicit range (no parsing), and what
 * the retry that casts zoned timestamps in time comparisons costs (time-instant-compare.ts), for a plain
 * query and for a Grafana panel. Runs alone too: `node --conditions=sirius-source --import tsx bench/src/time-range.ts`.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { createTimeRangeResolver } from '../../packages/server/src/analytics/time-range-resolver.js';
import { castInstantComparisons } from '../../packages/server/src/analytics/time-instant-compare.js';

const N = 300;
const PLAIN = `SELECT count(*) FROM log_entries WHERE time >= now() - INTERVAL '1 hour'`;
const GRAFANA = `SELECT floor(extract(epoch from time)/60)*60 AS "time",
  CASE level WHEN 1 THEN 'fatal' WHEN 2 THEN 'error' WHEN 3 THEN 'warn' WHEN 4 THEN 'info' WHEN 5 THEN 'debug' ELSE 'trace' END AS metric,
  count(*) AS logs
FROM log_entries l JOIN processes p USING (process_id)
WHERE time BETWEEN '2024-05-01T10:00:00Z' AND '2024-05-01T11:00:00Z' AND p.exe = 'game'
GROUP BY 1, 2 ORDER BY 1`;

async function perCallMs(fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < N / 10; i++) await fn();
  const runs: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) await fn();
    runs.push((performance.now() - t0) / N);
  }
  return Math.min(...runs);
}

export async function run(): Promise<Record<string, number>> {
  const resolver = await createTimeRangeResolver({ defaultRange: '24h' });
  const duck = await DuckDBInstance.create(':memory:');
  const conn = await duck.connect();
  try {
    return {
      'resolve, explicit range (ms/query)': await perCallMs(() => resolver.resolve(PLAIN, { begin: '1h', end: 'now' })),
      'resolve, derived from now() - interval (ms/query)': await perCallMs(() => resolver.resolve(PLAIN, {})),
      'resolve, derived from a Grafana panel (ms/query)': await perCallMs(() => resolver.resolve(GRAFANA, {})),
      'resolve, nothing to derive: default (ms/query)': await perCallMs(() => resolver.resolve('SELECT level, msg FROM log_entries', {})),
      'cast zoned comparisons, plain (ms/query)': await perCallMs(() => castInstantComparisons(conn, PLAIN)),
      'cast zoned comparisons, Grafana panel (ms/query)': await perCallMs(() => castInstantComparisons(conn, GRAFANA)),
    };
  } finally {
    resolver.close();
    conn.closeSync();
    duck.closeSync();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await run());
