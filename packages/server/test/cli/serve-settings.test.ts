/**
 * Operations settings of `sirius serve`, each given once as a flag and once as an environment variable, and
 * seen from outside: the startup line (retention), query answers (time budget, row and byte caps, the
 * memory DuckDB gets). Config resolution covers the shutdown grace, which shows only under a slow client.
 * (These servers are started through the CLI, so they run on PGlite, not SIRIUS_TEST_PG.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveServeConfig } from '../../src/config.js';
import { cleanEnv, serve, type ServeChild } from './serve-process.js';

async function query(url: string, sql: string): Promise<{ status: number; body: { rows?: Array<Record<string, unknown>>; error?: string } }> {
  const res = await fetch(`${url}/api/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sql, begin: '1h', end: 'now' }),
  });
  return { status: res.status, body: (await res.json()) as { rows?: Array<Record<string, unknown>>; error?: string } };
}

const FLAGS = ['--query-max-rows', '3', '--query-timeout-ms', '10000', '--query-memory', '256MiB', '--query-max-result-bytes', '4KiB', '--retention', 'off'];
const ENV = {
  SIRIUS_QUERY_MAX_ROWS: '3',
  SIRIUS_QUERY_TIMEOUT_MS: '10000',
  SIRIUS_QUERY_MEMORY: '256MiB',
  SIRIUS_QUERY_MAX_RESULT_BYTES: '4KiB',
  SIRIUS_RETENTION: '30d',
};

for (const [how, args, env, retention] of [
  ['flags', FLAGS, {}, /retention: off/],
  ['environment variables', [], ENV, /retention: 30d/],
] as const) {
  describe(`sirius serve settings as ${how}`, { timeout: 300_000 }, () => {
    let s: ServeChild;
    let url: string;
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'sirius-settings-'));
      s = serve(['--roles', 'analytics,daemon', '--http-port', '0', '--flight-port', 'off', '--pg-port', 'off', '--data-dir', dir, ...args], cleanEnv(env));
      url = await s.url(240_000);
    });
    after(async () => {
      await s?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    test('retention is shown on the startup line', () => {
      assert.match(s.output(), retention);
    });

    test('the row cap refuses a longer result with 413', async () => {
      assert.equal((await query(url, 'SELECT * FROM range(3)')).status, 200);
      const r = await query(url, 'SELECT * FROM range(10)');
      assert.equal(r.status, 413, JSON.stringify(r.body));
    });

    test('the result byte cap refuses a larger result with 413', async () => {
      const r = await query(url, "SELECT repeat('x', 20000) AS s");
      assert.equal(r.status, 413, JSON.stringify(r.body));
    });

    // 10 s: room for any small query on a loaded machine; the long one needs ~1 000 s of CPU
    test('the time budget stops a long query with 408', async () => {
      const r = await query(url, 'SELECT count(*) AS n FROM range(1000000000000) t(x) WHERE x % 7 = 3');
      assert.equal(r.status, 408, JSON.stringify(r.body));
    });

    test('DuckDB gets the memory given: a 300 MB aggregate string no longer fits', async () => {
      // (SQL cannot read the setting: current_setting is refused.) 256 MiB is shared by two query slots, so
      // each gets 128 MiB; the default (2 GB) fits this string
      const r = await query(url, "SELECT length(string_agg(repeat('x', 1000), '')) AS n FROM range(300000)");
      assert.notEqual(r.status, 200, JSON.stringify(r.body));
      assert.match(String(r.body.error), /memory/i);
    });
  });
}

test('shutdown grace: option, then SIRIUS_SHUTDOWN_GRACE_MS, then 10 s', () => {
  assert.equal(resolveServeConfig({ dataDir: '/tmp/x' }, {}).shutdownGraceMs, 10_000);
  assert.equal(resolveServeConfig({ dataDir: '/tmp/x' }, { SIRIUS_SHUTDOWN_GRACE_MS: '2500' }).shutdownGraceMs, 2500);
  assert.equal(resolveServeConfig({ dataDir: '/tmp/x', shutdownGraceMs: 40 }, { SIRIUS_SHUTDOWN_GRACE_MS: '2500' }).shutdownGraceMs, 40);
  assert.throws(() => resolveServeConfig({ dataDir: '/tmp/x' }, { SIRIUS_SHUTDOWN_GRACE_MS: 'soon' }), /SIRIUS_SHUTDOWN_GRACE_MS/);
});

test('a bad setting in the environment exits 2 naming the variable', async () => {
  const s = serve(['--http-port', '0'], cleanEnv({ SIRIUS_QUERY_MAX_ROWS: 'many' }));
  assert.equal(await s.exited, 2);
  assert.match(s.output(), /SIRIUS_QUERY_MAX_ROWS "many"/);
});
