/**
 * `GET /health`: the process answers (liveness). `GET /ready`: both lake backends answer (readiness), else
 * 503 naming which one is down, so a load balancer stops sending traffic to an instance that cannot store.
 */
import { Hono } from 'hono';
import type { Lake } from './lake/lake.js';

export function createHealthRoutes(lake: Lake): Hono {
  const app = new Hono();
  app.get('/health', (c) => c.json({ status: 'alive' }));
  app.get('/ready', async (c) => {
    const [sql, objects] = await Promise.all([
      withTimeout(async () => (await lake.sql.query('SELECT 1'), true), 5000),
      withTimeout(() => lake.objects.ping(), 5000),
    ]);
    const body = { sql: sql ? 'up' : 'down', object_store: objects ? 'up' : 'down' };
    return c.json({ status: sql && objects ? 'ready' : 'not ready', ...body }, sql && objects ? 200 : 503);
  });
  return app;
}

/** false when `check` throws, rejects or takes longer than `ms` */
async function withTimeout(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const p = Promise.resolve().then(check);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.catch(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
