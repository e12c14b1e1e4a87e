/**
 * The per-request cost of checking an API key: a managed key against the server's cached snapshot (the
 * common path: a SHA-256 and a map lookup), an environment key, an open side, and a whole `/api` request
 * through the Hono middleware for scale. In-memory PGlite holds the keys. Runs alone too:
 * `node --import tsx bench/src/key-check.ts`.
 */
import { Hono } from 'hono';
import { openLake } from '../../packages/server/src/lake/open-lake.js';
import { createKey } from '../../packages/server/src/lake/key-store.js';
import { KeyRegistry, staticKeyGate, type KeyGate } from '../../packages/server/src/auth/key-gate.js';
import { hashKey, requireApiKey } from '../../packages/server/src/ingestion/api-keys.js';

const N = 200_000;

async function perCheckUs(gate: KeyGate, key: string | undefined): Promise<number> {
  const once = async (n: number) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const v = gate.check(key);
      if (!(v instanceof Promise ? await v : v).ok) throw new Error('refused');
    }
    return ((performance.now() - t0) * 1000) / n;
  };
  await once(N / 10);
  const runs = [await once(N), await once(N), await once(N)];
  return Math.min(...runs);
}

export async function run(): Promise<Record<string, number>> {
  const lake = await openLake({ sqlConnectionString: 'memory://', dataDir: '/tmp', objectStoreUri: 'memory://' });
  // a snapshot that never goes stale during the run, so the figure is the cached path alone
  const registry = new KeyRegistry(lake.sql, { maxAgeMs: 3_600_000, refreshAfterMs: 3_600_000 });
  try {
    const keys: string[] = [];
    for (let i = 0; i < 100; i++) keys.push((await createKey(lake.sql, `k${i}`, 'query')).secret);
    await registry.start();
    const managed = registry.gate('query', ['env-1', 'env-2']);
    const app = new Hono();
    app.use('*', requireApiKey(managed));
    app.get('/x', (c) => c.text('ok'));
    const req = () => new Request('http://h/x', { headers: { authorization: `Bearer ${keys[42]}` } });
    const httpUs = async (n: number) => {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) if ((await app.fetch(req())).status !== 200) throw new Error('refused');
      return ((performance.now() - t0) * 1000) / n;
    };
    await httpUs(5_000);
    const hashUs = () => {
      const t0 = performance.now();
      for (let i = 0; i < N; i++) hashKey(keys[42]!);
      return ((performance.now() - t0) * 1000) / N;
    };
    return {
      'one SHA-256 of a key alone (the floor): µs': Math.min(hashUs(), hashUs(), hashUs()),
      'managed key, cached snapshot (100 keys): µs/check': await perCheckUs(managed, keys[42]),
      'environment key (2 keys): µs/check': await perCheckUs(managed, 'env-2'),
      'open side (no keys): µs/check': await perCheckUs(staticKeyGate([]), undefined),
      'Hono request through requireApiKey, managed key: µs/request': Math.min(await httpUs(20_000), await httpUs(20_000)),
    };
  } finally {
    await registry.close();
    await lake.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await run());
