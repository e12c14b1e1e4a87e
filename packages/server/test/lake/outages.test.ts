/**
 * Faults, made for real: the metadata PostgreSQL sits behind a TCP proxy that partitions the network
 * (connections stay open, no byte passes) or stops (connections reset, new ones refused); the object store's
 * folder becomes a file, or sits on a tmpfs that is full (ENOSPC); an S3 server (s3rver) behind a proxy is
 * partitioned or stopped. Queries and ingestion must answer 503 with
 * Retry-After within the deadline (`lakeTimeoutMs`, short here), with nothing about hosts, ports or paths in
 * the body; /ready must say 503 while a backend is down and 200 once it is back.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import S3rver from 's3rver';
import { startServer, type RunningServer } from '../../src/serve.js';
import { pgBackends } from '../support/pg.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { makeBlock, makeProcess, makeStream } from '../ingestion/fixtures.js';
import { asUnavailable } from '../../src/lake/pg-sql-client.js';
import { asObjectStoreUnavailable } from '../../src/lake/outage-object-store.js';
import { ObjectConflictError, ObjectNotFoundError } from '../../src/lake/object-store.js';
import { InvalidObjectKeyError } from '../../src/lake/object-key.js';
import { UnavailableError, findUnavailable } from '../../src/lake/unavailable.js';
import { useS3Endpoint } from '../support/s3rver-env.js';

// A real full disk needs a tmpfs, and mounting one needs root (CI runs as root); elsewhere the
// replaced-folder test covers the write failure.
const TMPFS_SKIP = process.getuid?.() === 0 ? false : 'mount -t tmpfs needs root; the replaced-folder test covers the write failure';
if (TMPFS_SKIP) console.log(`# skipping the full-disk test: ${TMPFS_SKIP}`);

const TIMEOUT_MS = 1000;
/** the deadline plus generous slack for a loaded 2-core machine */
const ANSWER_WITHIN_MS = TIMEOUT_MS * 3 + 2000;

interface Answer {
  status: number;
  retryAfter: string | null;
  body: string;
  ms: number;
}

async function call(url: string, init?: RequestInit): Promise<Answer> {
  const started = performance.now();
  // the client gives up well after the server should have: a hang shows as a failed assertion, not a stuck run
  const r = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  const body = await r.text();
  return { status: r.status, retryAfter: r.headers.get('retry-after'), body, ms: performance.now() - started };
}

const post = (server: RunningServer, path: string, body: Uint8Array | object) =>
  call(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': body instanceof Uint8Array ? 'application/octet-stream' : 'application/json' },
    body: body instanceof Uint8Array ? (body as Uint8Array<ArrayBuffer>) : JSON.stringify(body),
  });

/** a process and a log stream, registered: blocks can follow */
async function ingestStream(server: RunningServer) {
  const p = makeProcess();
  const s = makeStream(p.process_id);
  assert.equal((await post(server, '/ingestion/insert_process', p)).status, 200);
  assert.equal((await post(server, '/ingestion/insert_stream', s)).status, 200);
  return s;
}

const query = (server: RunningServer, sql: string) => post(server, '/api/query', { sql, begin: '1h', end: 'now' });

/** Polls until `check` holds, failing after `ms`. */
async function eventually(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function assertUnavailable(a: Answer, forbidden: string[]): void {
  console.log(`# 503 after ${Math.round(a.ms)} ms (deadline ${TIMEOUT_MS} ms): ${a.body}`);
  assert.equal(a.status, 503, a.body);
  assert.match(a.retryAfter ?? '', /^\d+$/, 'Retry-After');
  assert.ok(a.ms < ANSWER_WITHIN_MS, `answered after ${Math.round(a.ms)} ms`);
  for (const s of forbidden) assert.ok(!a.body.includes(s), `the body reveals ${s}: ${a.body}`);
  assert.doesNotMatch(a.body, /ECONN|ETIMEDOUT|ENOSPC|ENOTDIR|EEXIST/);
}

describe('what counts as an outage', () => {
  const sysErr = (code: string, syscall = 'connect') => Object.assign(new Error(`${code} 10.0.0.7:5432`), { code, syscall });
  const pgErr = (code: string) => Object.assign(new Error(`pg ${code}`), { code });

  test('lost connections, deadlines, server shutdowns and full disks are outages', () => {
    for (const err of [sysErr('ECONNREFUSED'), sysErr('ECONNRESET'), sysErr('ETIMEDOUT'), new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'), new Error('Query read timeout'), pgErr('57P01'), pgErr('57P03'),
      pgErr('08006'), pgErr('53100'), pgErr('53300'), pgErr('57014')]) {
      const mapped = asUnavailable(err);
      assert.ok(mapped instanceof UnavailableError, err.message);
      assert.equal((mapped as UnavailableError).cause, err, 'the original stays as the cause, for the log');
      assert.doesNotMatch((mapped as Error).message, /10\.0\.0\.7|5432/);
    }
    for (const err of [sysErr('ENOSPC', 'write'), sysErr('EROFS', 'open'), sysErr('EACCES', 'open'), sysErr('ENOTDIR', 'mkdir'),
      Object.assign(new Error('x'), { name: 'TimeoutError' }), Object.assign(new Error('x'), { $metadata: { httpStatusCode: 503 } })]) {
      assert.ok(asObjectStoreUnavailable(err, true) instanceof UnavailableError, String((err as { code?: string }).code ?? err.name));
    }
  });

  test('bad input, missing objects and conflicts are not', () => {
    for (const err of [pgErr('23505'), pgErr('42601'), pgErr('22P02'), new TypeError('x')]) assert.equal(asUnavailable(err), err);
    for (const err of [new ObjectNotFoundError('k'), new ObjectConflictError('k'), new InvalidObjectKeyError('/k', 'bad'),
      Object.assign(new Error('x'), { $metadata: { httpStatusCode: 404 } }), Object.assign(new Error('x'), { $metadata: { httpStatusCode: 412 } })]) {
      assert.equal(asObjectStoreUnavailable(err, true), err);
    }
    // reading under a path that is a file just means "no such object" (the store answers not found)
    const enotdir = sysErr('ENOTDIR', 'open');
    assert.equal(asObjectStoreUnavailable(enotdir, false), enotdir);
  });

  test('found through wrappers: a cause chain and AggregateError members', () => {
    const down = new UnavailableError('metadata database');
    const wrapped = new Error('cannot resolve view log_entries(global)', { cause: new AggregateError([new Error('other'), down]) });
    assert.equal(findUnavailable(wrapped), down);
    assert.equal(findUnavailable(new Error('plain')), undefined);
  });
});

const pgBackend = pgBackends.find((b) => b.name === 'postgres')!;

describe('metadata PostgreSQL outage (through a TCP proxy)', { skip: pgBackend.skip }, () => {
  let server: RunningServer;
  let proxy: TcpProxy;
  let dir: string;
  let db: Awaited<ReturnType<typeof pgBackend.create>>;
  let forbidden: string[];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sirius-outage-pg-'));
    db = await pgBackend.create();
    const target = new URL(db.connectionString!);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const viaProxy = new URL(db.connectionString!);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    server = await startServer({
      roles: ['ingestion', 'analytics'],
      httpPort: 0,
      dataDir: dir,
      sqlConnectionString: viaProxy.toString(),
      lakeTimeoutMs: TIMEOUT_MS,
      quiet: true,
    });
    forbidden = ['127.0.0.1', String(proxy.port), target.port || '5432', target.pathname.slice(1), dir, 'localhost'];
  });
  after(async () => {
    await proxy?.close();
    await server?.close();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('before the fault: ingestion, queries and /ready work', async () => {
    const p = makeProcess();
    assert.equal((await post(server, '/ingestion/insert_process', p)).status, 200);
    assert.equal((await query(server, 'SELECT count(*) AS n FROM processes')).status, 200);
    assert.equal((await call(`${server.url}/ready`)).status, 200);
  });

  test('network partition: ingestion, queries and /ready answer 503 within the deadline; all recover after it heals', async () => {
    // a stream known before the partition: its block goes straight to the batched row insert
    const known = makeProcess();
    const knownStream = makeStream(known.process_id);
    assert.equal((await post(server, '/ingestion/insert_process', known)).status, 200);
    assert.equal((await post(server, '/ingestion/insert_stream', knownStream)).status, 200);
    proxy.partition();
    try {
      const p = makeProcess();
      assertUnavailable(await post(server, '/ingestion/insert_process', p), forbidden);
      assertUnavailable(await post(server, '/ingestion/insert_block', makeBlock(knownStream).body), forbidden);
      // a lakehouse view (its partitions are looked up in the metadata database) and a metadata view
      assertUnavailable(await query(server, 'SELECT count(*) AS n FROM log_entries'), forbidden);
      assertUnavailable(await query(server, 'SELECT count(*) AS n FROM processes'), forbidden);
      const ready = await call(`${server.url}/ready`);
      assert.equal(ready.status, 503);
      assert.deepEqual(JSON.parse(ready.body), { status: 'not ready', sql: 'down', object_store: 'up' });
      assert.ok(ready.ms < ANSWER_WITHIN_MS + 5000);
    } finally {
      proxy.heal();
    }
    await eventually('/ready back to 200 after the partition', 15_000, async () => (await call(`${server.url}/ready`)).status === 200);
    const p = makeProcess();
    assert.equal((await post(server, '/ingestion/insert_process', p)).status, 200);
    const s = makeStream(p.process_id);
    assert.equal((await post(server, '/ingestion/insert_stream', s)).status, 200);
    assert.equal((await post(server, '/ingestion/insert_block', makeBlock(s).body)).status, 200);
    assert.equal((await query(server, 'SELECT count(*) AS n FROM processes')).status, 200);
  });

  test('server stopped (connections reset, then refused): 503 quickly; all recover after it returns', async () => {
    await proxy.stop();
    try {
      assertUnavailable(await post(server, '/ingestion/insert_process', makeProcess()), forbidden);
      assertUnavailable(await query(server, 'SELECT count(*) AS n FROM log_entries'), forbidden);
      assert.equal((await call(`${server.url}/ready`)).status, 503);
    } finally {
      await proxy.start();
    }
    await eventually('/ready back to 200 after the restart', 15_000, async () => (await call(`${server.url}/ready`)).status === 200);
    assert.equal((await post(server, '/ingestion/insert_process', makeProcess())).status, 200);
  });
});

describe('object store outage (file store)', () => {
  let server: RunningServer;
  let dir: string;
  let objects: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sirius-outage-objects-'));
    objects = join(dir, 'objects');
    server = await startServer({
      roles: ['ingestion', 'analytics'],
      httpPort: 0,
      dataDir: dir,
      sqlConnectionString: 'memory://',
      objectStoreUri: pathToFileURL(objects).href,
      lakeTimeoutMs: TIMEOUT_MS,
      quiet: true,
    });
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("the store's folder replaced by a file: insert_block and notebook saves 503, /ready 503; both recover", async () => {
    const s = await ingestStream(server);
    await rm(objects, { recursive: true, force: true });
    await writeFile(objects, 'not a folder');
    try {
      const block = makeBlock(s);
      assertUnavailable(await post(server, '/ingestion/insert_block', block.body), [dir]);
      const save = await call(`${server.url}/api/notebooks/nb1`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: 't', cells: [] }),
      });
      assertUnavailable(save, [dir]);
      const ready = await call(`${server.url}/ready`);
      assert.equal(ready.status, 503);
      assert.deepEqual(JSON.parse(ready.body), { status: 'not ready', sql: 'up', object_store: 'down' });
      const rows = await server.lake.sql.query('SELECT 1 FROM blocks WHERE block_id = $1', [block.meta.block_id]);
      assert.equal(rows.length, 0, 'a block whose payload was not stored has no row');
    } finally {
      await rm(objects, { force: true });
    }
    assert.equal((await call(`${server.url}/ready`)).status, 200);
    assert.equal((await post(server, '/ingestion/insert_block', makeBlock(s).body)).status, 200);
  });

  test('a full disk (ENOSPC on a 1 MiB tmpfs): insert_block 503, /ready 503 via its write probe; both recover', { skip: TMPFS_SKIP }, async () => {
    await mkdir(objects, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', objects], { stdio: 'pipe' });
    try {
      const s = await ingestStream(server);
      // leave the file system with no free block at all
      await writeFile(join(objects, 'filler'), Buffer.alloc(1024 * 1024)).catch(() => undefined);
      const block = makeBlock(s);
      assertUnavailable(await post(server, '/ingestion/insert_block', block.body), [dir]);
      const ready = await call(`${server.url}/ready`);
      assert.equal(ready.status, 503);
      assert.deepEqual(JSON.parse(ready.body), { status: 'not ready', sql: 'up', object_store: 'down' });
      await rm(join(objects, 'filler'));
      assert.equal((await call(`${server.url}/ready`)).status, 200);
      assert.equal((await post(server, '/ingestion/insert_block', block.body)).status, 200);
    } finally {
      execFileSync('umount', [objects], { stdio: 'pipe' });
    }
  });
});

describe('object store outage (S3 through a TCP proxy)', () => {
  let server: RunningServer;
  let s3: S3rver;
  let proxy: TcpProxy;
  let dir: string;
  let forbidden: string[];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sirius-outage-s3-'));
    s3 = new S3rver({ address: '127.0.0.1', port: 0, directory: join(dir, 's3rver'), silent: true, configureBuckets: [{ name: 'outage' }] });
    const { port } = await s3.run();
    proxy = await startTcpProxy('127.0.0.1', port);
    useS3Endpoint(`http://127.0.0.1:${proxy.port}`);
    server = await startServer({
      roles: ['ingestion', 'analytics'],
      httpPort: 0,
      dataDir: join(dir, 'data'),
      sqlConnectionString: 'memory://',
      objectStoreUri: 's3://outage/sirius',
      lakeTimeoutMs: TIMEOUT_MS,
      quiet: true,
    });
    forbidden = ['127.0.0.1', String(proxy.port), String(port), dir];
  });
  after(async () => {
    await proxy?.close();
    await server?.close();
    await s3?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('network partition: insert_block, notebooks and /ready answer 503 within the deadline; all recover after it heals', async () => {
    const s = await ingestStream(server);
    assert.equal((await post(server, '/ingestion/insert_block', makeBlock(s).body)).status, 200);
    proxy.partition();
    try {
      assertUnavailable(await post(server, '/ingestion/insert_block', makeBlock(s).body), forbidden);
      assertUnavailable(await call(`${server.url}/api/notebooks`), forbidden);
      const ready = await call(`${server.url}/ready`);
      assert.equal(ready.status, 503);
      assert.deepEqual(JSON.parse(ready.body), { status: 'not ready', sql: 'up', object_store: 'down' });
    } finally {
      proxy.heal();
    }
    await eventually('/ready back to 200 after the partition', 15_000, async () => (await call(`${server.url}/ready`)).status === 200);
    assert.equal((await post(server, '/ingestion/insert_block', makeBlock(s).body)).status, 200);
  });

  test('S3 stopped (connections reset, then refused): insert_block 503 quickly; recovers after it returns', async () => {
    const s = await ingestStream(server);
    await proxy.stop();
    try {
      assertUnavailable(await post(server, '/ingestion/insert_block', makeBlock(s).body), forbidden);
      assert.equal((await call(`${server.url}/ready`)).status, 503);
    } finally {
      await proxy.start();
    }
    await eventually('/ready back to 200 after the restart', 15_000, async () => (await call(`${server.url}/ready`)).status === 200);
    assert.equal((await post(server, '/ingestion/insert_block', makeBlock(s).body)).status, 200);
  });
});
