/**
 * `SIRIUS_QUERY_KEYS` reaches every way to ask of a served analytics role: `/api` wants the bearer key, the
 * PostgreSQL gateway the key as password. (Each endpoint's own key checks are tested with it.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startServer, type RunningServer } from '../../src/serve.js';
import { resolveServeConfig } from '../../src/config.js';
import { createQueryCommand } from '../../src/cli/query-command.js';
import { PassThrough } from 'node:stream';
import { freePort } from '../support/free-port.js';

let server: RunningServer;
let dir: string;
let pgPort: number;


before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sirius-query-keys-'));
  pgPort = await freePort();
  server = await startServer({ roles: ['analytics'], httpPort: 0, pgPort, dataDir: dir, sqlConnectionString: 'memory://', quiet: true, queryKeys: ['k1', 'k2'] });
});
after(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

test('SIRIUS_QUERY_KEYS is read as a comma-separated list, blanks ignored', () => {
  assert.deepEqual(resolveServeConfig({}, { SIRIUS_QUERY_KEYS: ' a, ,b ' }).queryKeys, ['a', 'b']);
  assert.deepEqual(resolveServeConfig({}, {}).queryKeys, []);
});

test('/api wants one of the keys', async () => {
  const ask = (auth?: string) =>
    fetch(`${server.url}/api/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...(auth ? { authorization: auth } : {}) },
      body: JSON.stringify({ sql: 'SELECT 42 AS answer', begin: '1h' }),
    });
  const none = await ask();
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Bearer');
  assert.equal((await ask('Bearer k3')).status, 401);
  const ok = await ask('Bearer k2');
  assert.equal(ok.status, 200);
  assert.deepEqual(((await ok.json()) as { rows: unknown[] }).rows, [{ answer: 42 }]);
});

test('the PostgreSQL gateway wants one of the keys as password', async () => {
  const bad = new pg.Client({ host: '127.0.0.1', port: pgPort, user: 'grafana', password: 'nope' });
  await assert.rejects(bad.connect(), (err: pg.DatabaseError) => err.code === '28P01');
  await bad.end().catch(() => undefined);
  const good = new pg.Client({ host: '127.0.0.1', port: pgPort, user: 'grafana', password: 'k1' });
  await good.connect();
  try {
    assert.equal((await good.query('SELECT 42 AS answer')).rows[0].answer, 42);
  } finally {
    await good.end();
  }
});

test('sirius query says how to give a key when the server wants one, and runs with --api-key', async () => {
  const run = async (...args: string[]) => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const text = (s: PassThrough) => s.read()?.toString() ?? '';
    const code = await createQueryCommand({ stdout, stderr }).run(['SELECT 42 AS answer', '--url', server.url, ...args]);
    return { code, out: text(stdout), err: text(stderr) };
  };
  const denied = await run();
  assert.equal(denied.code, 1);
  assert.match(denied.err, /wants an API key .*pass --api-key <key> or set SIRIUS_API_KEY/);
  const ok = await run('--api-key', 'k2', '--format', 'csv');
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /^answer\r?\n42\r?\n$/);
});
