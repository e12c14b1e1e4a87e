/**
 * `GET /health`: the process answers (liveness). `GET /ready`: both lake backends answer (readiness), else
 * 503 naming which one is down, so a load balancer stops sending traffic to an instance that cannot store.
 * The object store must take a write: a full disk still answers reads and pings, but ingestion fails there.
 */
import { Hono } from 'hono';
import { randomBytes } from 'node:crypto';
import type { Lake } from './lake/lake.js';
import { RETRY_AFTER_SECONDS } from './lake/unavailable.js';

/** probe objects live here, one fresh key per probe (objects are create-only) and deleted right after */
const PROBE_PREFIX = '_ready/';

export function createHealthRoutes(lake: Lake): Hono {
  const app = new Hono();
  app.get('/health', (c) => c.json({ status: 'alive' }));
  app.get('/ready', async (c) => {
    const [sql, objects] = await Promise.all([
      withTimeout(async () => (await lake.sql.query('SELECT 1'), true), 5000),
      withTimeout(async () => (await lake.objects.ping()) && (await writeProbe(lake)), 5000),
    ]);
    const body = { sql: sql ? 'up' : 'down', object_store: objects ? 'up' : 'down' };
    if (sql && objects) return c.json({ status: 'ready', ...body }, 200);
    return c.json({ status: 'not ready', ...body }, 503, { 'Retry-After': String(RETRY_AFTER_SECONDS) });
  });
  return app;
}

async function writeProbe(lake: Lake): Promise<boolean> {
  const key = `${PROBE_PREFIX}${Date.now()}-${randomBytes(6).toString('hex')}`;
  await lake.objects.put(key, new Uint8Array([1]));
  await lake.objects.delete([key]);
  return true;
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
