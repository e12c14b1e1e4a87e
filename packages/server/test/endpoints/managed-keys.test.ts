/**
 * Managed API keys (`sirius admin keys`): the CLI creates, lists and revokes them in the metadata database,
 * and a served instance accepts them alongside the environment's keys on every route and protocol, and
 * refuses a revoked one within a second (checked here with a deadline of 1 s plus a margin for a loaded
 * machine: the refusal is asserted, not its timing). Runs on PGlite and on the PostgreSQL server.
 */
import { after, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { startServer, type RunningServer } from '../../src/serve.js';
import { createKey, listKeys, revokeKey } from '../../src/lake/key-store.js';
import { KeyRegistry } from '../../src/auth/key-gate.js';
import { openLake } from '../../src/lake/open-lake.js';
import { pgBackends } from '../support/pg.js';
import { freePort } from '../support/free-port.js';
import { connect as flightConnect, flightInfo, md, readTicket } from './flight-client.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const main = join(root, 'packages/server/src/cli/main.ts');

interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** runs the real CLI in a child process (asynchronously: a server may be running in this one) */
function sirius(env: Record<string, string | undefined>, ...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, SIRIUS_SQL_CONNECTION_STRING: '', SIRIUS_OBJECT_STORE_URI: 'memory://' };
    for (const [k, v] of Object.entries(env)) childEnv[k] = v;
    const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], { cwd: root, env: childEnv });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/** polls `refused` until it says true or the deadline passes; returns whether it did */
async function refusedWithin(ms: number, refused: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await refused()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** revocation is promised within 1 s; the margin is for a loaded 2-core machine */
const REFUSAL_DEADLINE_MS = 1_000 + 4_000;

for (const backend of pgBackends) {
  describe(`managed API keys on ${backend.name}`, { skip: backend.skip }, () => {
    let dir: string;
    let db: { connectionString: string | undefined; drop(): Promise<void> };
    let env: Record<string, string | undefined>;
    const cleanups: Array<() => Promise<void>> = [];

    /** each test starts from an empty database (keys are never deleted, so they would leak between tests) */
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'sirius-managed-keys-'));
      db = await backend.create();
      env = { SIRIUS_DATA_DIR: dir, SIRIUS_SQL_CONNECTION_STRING: db.connectionString ?? '' };
      const [d, b] = [dir, db];
      cleanups.push(async () => {
        await b.drop();
        await rm(d, { recursive: true, force: true });
      });
    });
    after(async () => {
      for (const c of cleanups) await c();
    });

    test('sirius admin keys create, list and revoke', async () => {
      const created = await sirius(env, 'admin', 'keys', 'create', 'ci-writer', '--kind', 'ingestion');
      assert.equal(created.code, 0, created.err);
      const secret = created.out.trim();
      assert.match(secret, /^sirius_ingestion_[A-Za-z0-9_-]{43}$/, 'the key alone on stdout');
      assert.match(created.err, /shown only this once/);

      const again = await sirius(env, 'admin', 'keys', 'create', 'ci-writer', '--kind', 'query');
      assert.equal(again.code, 1);
      assert.match(again.err, /^sirius: a key named "ci-writer" already exists/);
      const badKind = await sirius(env, 'admin', 'keys', 'create', 'x', '--kind', 'admin');
      assert.equal(badKind.code, 2);
      assert.match(badKind.err, /--kind ingestion or --kind query/);
      const badName = await sirius(env, 'admin', 'keys', 'create', 'has space', '--kind', 'query');
      assert.equal(badName.code, 1);
      assert.match(badName.err, /invalid key name/);

      const listed = await sirius(env, 'admin', 'keys', 'list');
      assert.equal(listed.code, 0, listed.err);
      const lines = listed.out.trim().split('\n').map((l) => l.split('\t'));
      assert.deepEqual(lines[0], ['name', 'kind', 'created', 'last_used', 'revoked']);
      assert.equal(lines.length, 2);
      assert.deepEqual([lines[1]![0], lines[1]![1], lines[1]![3], lines[1]![4]], ['ci-writer', 'ingestion', '-', '-']);
      assert.ok(Math.abs(Date.parse(lines[1]![2]!) - Date.now()) < 10 * 60_000, `created time ${lines[1]![2]}`);
      assert.doesNotMatch(listed.out, new RegExp(secret), 'the secret is never listed');

      const revoked = await sirius(env, 'admin', 'keys', 'revoke', 'ci-writer');
      assert.equal(revoked.code, 0, revoked.err);
      const twice = await sirius(env, 'admin', 'keys', 'revoke', 'ci-writer');
      assert.equal(twice.code, 1);
      assert.match(twice.err, /already revoked/);
      const none = await sirius(env, 'admin', 'keys', 'revoke', 'nobody');
      assert.equal(none.code, 1);
      assert.match(none.err, /no key named "nobody"/);
      const after = (await sirius(env, 'admin', 'keys', 'list')).out.trim().split('\n')[1]!.split('\t');
      assert.notEqual(after[4], '-', 'revoked time listed');

      // only the hash is stored
      const lake = await openLake({ sqlConnectionString: db.connectionString, dataDir: dir, objectStoreUri: 'memory://' });
      try {
        const rows = await lake.sql.query<{ key_hash: string }>('SELECT key_hash FROM api_keys');
        assert.equal(rows.length, 1);
        assert.match(rows[0]!.key_hash, /^[0-9a-f]{64}$/);
        assert.notEqual(rows[0]!.key_hash, secret);
      } finally {
        await lake.close();
      }
    });

    test('a revoked key is refused on ingestion, /api/query, Flight SQL and the PostgreSQL gateway', async () => {
      const pgPort = await freePort();
      const flightPort = await freePort();
      const server = await startServer({
        roles: ['ingestion', 'analytics'], httpPort: 0, pgPort, flightPort, dataDir: dir,
        sqlConnectionString: db.connectionString, objectStoreUri: 'memory://', quiet: true,
        queryKeys: ['env-query-key'], ingestionKeys: [],
      });
      const clients: pg.Client[] = [];
      const flight = flightConnect(flightPort);
      try {
        // the PostgreSQL server is shared: keys come from another process, the CLI; PGlite allows one process,
        // so there the same functions run on the server's own connection
        const create = async (name: string, kind: 'ingestion' | 'query') => {
          if (backend.name === 'pglite') return (await createKey(server.lake.sql, name, kind)).secret;
          const r = await sirius(env, 'admin', 'keys', 'create', name, '--kind', kind);
          assert.equal(r.code, 0, r.err);
          return r.out.trim();
        };
        const revoke = async (name: string) => {
          if (backend.name === 'pglite') return revokeKey(server.lake.sql, name);
          const r = await sirius(env, 'admin', 'keys', 'revoke', name);
          assert.equal(r.code, 0, r.err);
        };

        const ingest = (key?: string) => fetch(`${server.url}/v1/logs`, {
          method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
          body: JSON.stringify({ resourceLogs: [] }),
        });
        const ingestNative = (key?: string) => fetch(`${server.url}/ingestion/insert_process`, {
          method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
          body: '{}',
        });
        const query = (key?: string) => fetch(`${server.url}/api/query`, {
          method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
          body: JSON.stringify({ sql: 'SELECT 42 AS answer', begin: '1h' }),
        });
        const flightQuery = async (key: string) => {
          const meta = md({ authorization: `Bearer ${key}` });
          const info = await flightInfo(flight, 'CommandStatementQuery', { query: 'SELECT 42 AS answer' }, meta);
          return (await readTicket(flight, info, meta)).table.getChild('answer')?.get(0);
        };
        const flightRefused = (key: string) => flightQuery(key).then(
          () => false,
          (err: ServiceError) => {
            assert.equal(err.code, grpcStatus.UNAUTHENTICATED, err.message);
            return true;
          },
        );
        const pgConnect = async (password: string) => {
          const c = new pg.Client({ host: '127.0.0.1', port: pgPort, user: 'grafana', password });
          c.on('error', () => undefined);
          clients.push(c);
          await c.connect();
          return c;
        };

        // no ingestion key anywhere: the side is open; the query side has an environment key
        assert.equal((await ingest()).status, 200);
        assert.equal((await query()).status, 401);

        const writer = await create('writer', 'ingestion');
        const reader = await create('reader', 'query');
        // a new key closes the open ingestion side within the same bound
        assert.ok(await refusedWithin(REFUSAL_DEADLINE_MS, async () => (await ingest()).status === 401), 'ingestion now wants a key');
        assert.equal((await ingest(writer)).status, 200);
        assert.equal((await ingestNative(writer)).status, 400, 'past the key check, the empty body is refused');
        assert.equal((await ingest(reader)).status, 401, 'a query key does not ingest');
        assert.equal((await query(writer)).status, 401, 'an ingestion key does not query');
        const ok = await query(reader);
        assert.equal(ok.status, 200);
        assert.deepEqual(((await ok.json()) as { rows: unknown[] }).rows, [{ answer: 42 }]);
        assert.equal((await query('env-query-key')).status, 200, 'the environment key still works');
        assert.equal(Number(await flightQuery(reader)), 42);
        const session = await pgConnect(reader);
        assert.equal((await session.query('SELECT 42 AS answer')).rows[0].answer, 42);

        await revoke('writer');
        await revoke('reader');

        assert.ok(await refusedWithin(REFUSAL_DEADLINE_MS, async () => (await ingest(writer)).status === 401), 'OTLP ingestion refuses the revoked key');
        const refusedIngest = await ingestNative(writer);
        assert.equal(refusedIngest.status, 401);
        assert.match(((await refusedIngest.json()) as { error: string }).error, /revoked API key/);
        assert.ok(await refusedWithin(REFUSAL_DEADLINE_MS, async () => (await query(reader)).status === 401), '/api/query refuses the revoked key');
        assert.ok(await refusedWithin(REFUSAL_DEADLINE_MS, () => flightRefused(reader)), 'Flight SQL refuses the revoked key');
        assert.ok(
          await refusedWithin(REFUSAL_DEADLINE_MS, async () => {
            try {
              await (await pgConnect(reader)).query('SELECT 1');
              return false;
            } catch (err) {
              assert.equal((err as pg.DatabaseError).code, '28P01', (err as Error).message);
              return true;
            }
          }),
          'the PostgreSQL gateway refuses the revoked key at login',
        );
        // a session opened before the revocation is cut at its next statement
        await assert.rejects(session.query('SELECT 1'), (err: pg.DatabaseError) => err.code === '28000' && /no longer accepted/.test(err.message));

        // revoking the last key does not open the side again
        assert.equal((await ingest()).status, 401);
        assert.equal((await query('env-query-key')).status, 200);

        // last-used times are written (coalesced) by the time the server closes
        await server.close();
        const lake = await openLake({ sqlConnectionString: db.connectionString, dataDir: dir, objectStoreUri: 'memory://' });
        try {
          const byName = new Map((await listKeys(lake.sql)).map((k) => [k.name, k]));
          assert.notEqual(byName.get('reader')?.lastUsedTime, null);
          assert.notEqual(byName.get('writer')?.lastUsedTime, null);
          assert.notEqual(byName.get('reader')?.revokedTime, null);
        } finally {
          await lake.close();
        }
      } finally {
        flight.close();
        await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
        await server.close();
      }
    });

    test('the key registry writes last-used times in one statement per interval, not one per request', async () => {
      const lake = await openLake({ sqlConnectionString: db.connectionString, dataDir: dir, objectStoreUri: 'memory://' });
      const registry = new KeyRegistry(lake.sql, { touchEveryMs: 60_000 });
      try {
        await registry.start();
        const { secret } = await createKey(lake.sql, 'often', 'query');
        const gate = registry.gate('query', []);
        // the side was open (any key passes); the new key closes it once the snapshot is reloaded
        assert.equal((await gate.check('anything')).ok, true);
        assert.ok(await refusedWithin(REFUSAL_DEADLINE_MS, async () => !(await gate.check('anything')).ok), 'the side now wants a key');
        for (let i = 0; i < 1000; i++) assert.equal((await gate.check(secret)).ok, true);
        const before = (await listKeys(lake.sql)).find((k) => k.name === 'often');
        assert.equal(before?.lastUsedTime, null, 'no write per request');
        await registry.close();
        const after = (await listKeys(lake.sql)).find((k) => k.name === 'often');
        assert.notEqual(after?.lastUsedTime, null, 'written when the registry closes');
      } finally {
        await registry.close();
        await lake.close();
      }
    });
  });
}
