/**
 * Ingestion rate limits: the token buckets on a controlled clock, then over real HTTP against `startServer`
 * (PGlite and PostgreSQL): 429 with Retry-After and a reason, per address and per key, nothing written by a
 * refused request, and a page's origin still able to read the answer.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningServer } from '../../src/serve.js';
import { resolveServeConfig, ConfigError } from '../../src/config.js';
import { TokenBuckets } from '../../src/ingestion/rate-limit.js';
import { pgBackends } from '../support/pg.js';
import { makeProcess, useIngestionServer } from './fixtures.js';

test('token buckets: a burst, then one token per 1/rate second, per key', () => {
  let now = 1_000_000;
  const b = new TokenBuckets({ rate: 4, burst: 3, now: () => now });
  assert.deepEqual([b.take('a'), b.take('a'), b.take('a')], [0, 0, 0]);
  assert.equal(b.take('a'), 250);
  assert.equal(b.take('b'), 0, 'another key has its own bucket');
  now += 100;
  assert.equal(b.take('a'), 150);
  now += 150;
  assert.equal(b.take('a'), 0);
  now += 10_000;
  assert.deepEqual([b.take('a'), b.take('a'), b.take('a'), b.take('a') > 0], [0, 0, 0, true], 'refills to the burst, not beyond');
  assert.equal(new TokenBuckets({ rate: 0, burst: 1 }).take('x'), 0, 'rate 0: no limit');
});

test('token buckets: memory is bounded, least recently used forgotten first', () => {
  const b = new TokenBuckets({ rate: 1, burst: 1, maxBuckets: 3, now: () => 0 });
  for (const k of ['a', 'b', 'c']) b.take(k);
  b.take('a');
  b.take('d');
  assert.equal(b.size, 3);
  assert.equal(b.take('a') > 0, true, 'a was used recently: still empty');
  assert.equal(b.take('b'), 0, 'b was forgotten: a fresh bucket');
});

test('rate limits from the environment, checked', () => {
  const c = resolveServeConfig({}, { SIRIUS_INGESTION_CLIENT_RATE: '5', SIRIUS_INGESTION_CLIENT_BURST: '7', SIRIUS_INGESTION_KEY_RATE: '0' });
  assert.deepEqual(c.ingestionRateLimits, { clientRate: 5, clientBurst: 7, keyRate: 0, keyBurst: 20_000 });
  assert.throws(() => resolveServeConfig({}, { SIRIUS_INGESTION_CLIENT_BURST: '0' }), (e: Error) => e instanceof ConfigError && /SIRIUS_INGESTION_CLIENT_BURST/.test(e.message));
  assert.throws(() => resolveServeConfig({}, { SIRIUS_INGESTION_ORIGINS: 'game.example' }), (e: Error) => e instanceof ConfigError && /SIRIUS_INGESTION_ORIGINS.*not an origin/.test(e.message));
});

for (const backend of pgBackends) {
  describe(`ingestion rate limits (${backend.name})`, { skip: backend.skip }, () => {
    let perClient: RunningServer;
    let perKey: RunningServer;
    // a rate this low refills no token while the test runs, even on a slow host
    useIngestionServer(backend, 'sirius-rate-', () => ({
      objectStoreUri: 'memory://',
      ingestionOrigins: ['https://game.example'],
      ingestionRateLimits: { clientRate: 0.01, clientBurst: 3, keyRate: 0 },
    }), (s) => (perClient = s));
    useIngestionServer(backend, 'sirius-rate-key-', () => ({
      objectStoreUri: 'memory://',
      ingestionKeys: ['key-a', 'key-b'],
      ingestionRateLimits: { clientRate: 0, clientBurst: 1, keyRate: 0.01, keyBurst: 2 },
    }), (s) => (perKey = s));

    const count = async (server: RunningServer, id: string) =>
      Number((await server.lake.sql.query<{ n: string }>('SELECT count(*) AS n FROM processes WHERE process_id = $1', [id]))[0]!.n);
    const post = (server: RunningServer, path: string, body: string, headers: Record<string, string> = {}) =>
      fetch(server.url + path, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

    test('an address over its burst gets 429 with Retry-After and a reason, on every route, and nothing is written', async () => {
      const accepted = [makeProcess(), makeProcess(), makeProcess()];
      for (const p of accepted) assert.equal((await post(perClient, '/ingestion/insert_process', JSON.stringify(p))).status, 200);
      const refused = makeProcess();
      for (const path of ['/ingestion/insert_process', '/v1/logs', '/ingestion/otlp/v1/metrics']) {
        const r = await post(perClient, path, path.includes('insert') ? JSON.stringify(refused) : '{}');
        assert.equal(r.status, 429, path);
        assert.ok(Number(r.headers.get('retry-after')) >= 1, `Retry-After ${r.headers.get('retry-after')}`);
        assert.match(((await r.json()) as { error: string }).error, /rate limit: more than 0.01 requests\/s \(burst 3\) from this address; retry after \d+ s/);
      }
      for (const p of accepted) assert.equal(await count(perClient, p.process_id), 1);
      assert.equal(await count(perClient, refused.process_id), 0);
    });

    test('a 429 to an allowed page origin carries CORS headers, so the page can read Retry-After', async () => {
      const r = await post(perClient, '/ingestion/insert_process', JSON.stringify(makeProcess()), { origin: 'https://game.example' });
      assert.equal(r.status, 429);
      assert.equal(r.headers.get('access-control-allow-origin'), 'https://game.example');
      assert.match(r.headers.get('access-control-expose-headers') ?? '', /Retry-After/i);
    });

    test('a key over its burst gets 429; another key and its own writes are unaffected', async () => {
      const a = { authorization: 'Bearer key-a' };
      for (let i = 0; i < 2; i++) assert.equal((await post(perKey, '/ingestion/insert_process', JSON.stringify(makeProcess()), a)).status, 200);
      const refused = makeProcess();
      const r = await post(perKey, '/ingestion/insert_process', JSON.stringify(refused), a);
      assert.equal(r.status, 429);
      assert.ok(Number(r.headers.get('retry-after')) >= 1);
      assert.match(((await r.json()) as { error: string }).error, /with this API key/);
      assert.equal(await count(perKey, refused.process_id), 0);
      const other = makeProcess();
      assert.equal((await post(perKey, '/ingestion/insert_process', JSON.stringify(other), { authorization: 'Bearer key-b' })).status, 200);
      assert.equal(await count(perKey, other.process_id), 1);
      // a wrong key spends nothing: 401, as before
      assert.equal((await post(perKey, '/ingestion/insert_process', JSON.stringify(makeProcess()), { authorization: 'Bearer nope' })).status, 401);
    });
  });
}
