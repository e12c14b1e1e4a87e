/**
 * The analytics role in one call: a query engine over the lake and lakehouse, and its HTTP routes
 * (mounted at `/api`). Shaped like the server's `HttpRole` so `createAnalyticsRole` can return it.
 *
 * @example
 *   const analytics = await createAnalytics({ lake, lakehouse, dataDir: '.sirius' });
 *   app.route('/api', analytics.app);
 *   // …
 *   await analytics.close();
 */
import { join } from 'node:path';
import type { Hono } from 'hono';
import type { Lake } from '../lake/lake.js';
import type { Lakehouse } from '../lakehouse/lakehouse.js';
import { createQueryEngine, type QueryEngine, type QueryLimits } from '../analytics/query-engine.js';
import { createQueryRoutes } from './http-query.js';

export interface CreateAnalyticsOptions {
  lake: Lake;
  lakehouse: Lakehouse;
  /** the server's data folder: the object cache and DuckDB's spill files go under `<dataDir>/cache/analytics` */
  dataDir: string;
  limits?: QueryLimits;
}

export interface Analytics {
  engine: QueryEngine;
  app: Hono;
  close(): Promise<void>;
}

export async function createAnalytics(opts: CreateAnalyticsOptions): Promise<Analytics> {
  const engine = await createQueryEngine({
    lake: opts.lake,
    lakehouse: opts.lakehouse,
    cacheDir: join(opts.dataDir, 'cache', 'analytics'),
    limits: opts.limits,
  });
  return { engine, app: createQueryRoutes({ engine }), close: () => engine.close() };
}
