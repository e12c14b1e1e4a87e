/**
 * A server started with ingestion keys (SIRIUS_INGESTION_KEYS) against the tracing library: with the right
 * key (`init({ apiKey })` or SIRIUS_INGESTION_KEY) everything is stored and can be queried back; without a
 * key, or with one the server does not know, one clear line on stderr names the server (never the key),
 * nothing is stored, the refused data is counted as dropped, and the client does not hammer the server.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { startServer, type RunningServer } from '@sirius/server';
import { BlockEncoder, encodeBlock, LogLevel, lz4SectionsCodec, type ProcessInfo, type StreamInfo } from '@sirius/transit';
import { Budget } from '../src/core/budget.js';
import { fetchTransport, type Transport } from '../src/core/transport.js';
import { Uploader, type Job } from '../src/core/uploader.js';
import { lz4Codec } from '../src/platform/node/lz4-codec.js';

const KEY = 'tracing-test-key-6b1f';
const CHILD = fileURLToPath(new URL('./fixtures/metadata-child.ts', import.meta.url));

describe('ingestion API keys', () => {
  let server: RunningServer;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sirius-tracing-keys-'));
    server = await startServer({
      httpPort: 0, dataDir: dir, sqlConnectionString: 'memory://', objectStoreUri: 'memory://',
      roles: ['ingestion', 'analytics'], ingestionKeys: ['other-key', KEY], quiet: true,
    });
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function child(env: Record<string, string>, init: object, n: number) {
    const { SIRIUS_INGESTION_KEY: _drop, ...parentEnv } = process.env;
    const proc = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: { ...parentEnv, SIRIUS_TELEMETRY_URL: server.url, CHILD_INIT: JSON.stringify(init), CHILD_N: String(n), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    const code = await new Promise<number | null>((r) => proc.on('exit', r));
    const done = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { step: string; ok: boolean }).find((s) => s.step === 'done');
    return { code, done, stderr: err };
  }

  const query = async (sql: string) => {
    const r = await fetch(`${server.url}/api/query`, {
      method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ sql, begin: '1d', end: 'now' }),
    });
    const body = (await r.json()) as { rows?: Record<string, unknown>[]; error?: string };
    assert.equal(r.status, 200, body.error);
    return body.rows!;
  };
  const processCount = async (exe: string) =>
    (await server.lake.sql.query('SELECT 1 FROM processes WHERE exe = $1', [exe])).length;

  test('the right key, from init({ apiKey }) or SIRIUS_INGESTION_KEY: every log and metric is stored and queried back', async () => {
    const a = await child({}, { exe: 'keyed-by-option', apiKey: KEY }, 30);
    assert.equal(a.code, 0, a.stderr);
    assert.deepEqual(a.done, { step: 'done', ok: true }, a.stderr);
    assert.doesNotMatch(a.stderr, /sirius tracing/);
    const b = await child({ SIRIUS_INGESTION_KEY: KEY }, { exe: 'keyed-by-env' }, 12);
    assert.deepEqual(b.done, { step: 'done', ok: true }, b.stderr);

    const logs = await query(`SELECT exe, count(*)::INTEGER AS n, count(DISTINCT msg)::INTEGER AS distinct_msgs
      FROM log_entries WHERE exe LIKE 'keyed-by-%' GROUP BY exe ORDER BY exe`);
    assert.deepEqual(logs, [{ exe: 'keyed-by-env', n: 12, distinct_msgs: 12 }, { exe: 'keyed-by-option', n: 30, distinct_msgs: 30 }]);
    const measures = await query(`SELECT exe, value FROM measures WHERE name = 'lines' AND exe LIKE 'keyed-by-%' ORDER BY exe`);
    assert.deepEqual(measures, [{ exe: 'keyed-by-env', value: 12 }, { exe: 'keyed-by-option', value: 30 }]);
  });

  test('no key: one clear message naming the server, nothing stored, and the program ends normally', async () => {
    const r = await child({}, { exe: 'no-key' }, 40);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.done, { step: 'done', ok: true }, 'the refused data is given up, not retried until the deadline');
    const lines = r.stderr.split('\n').filter((l) => l.includes('sirius tracing'));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, new RegExp(`${server.url.replace(/[.:/]/g, '\\$&')} requires an API key and none was set \\(init\\(\\{ apiKey \\}\\) or SIRIUS_INGESTION_KEY\\): 401`));
    assert.equal(await processCount('no-key'), 0);
  });

  test('an unknown key: the message says the key was refused and never prints it', async () => {
    const wrong = 'not-a-known-key-91c2';
    const r = await child({}, { exe: 'wrong-key', apiKey: wrong }, 5);
    assert.deepEqual(r.done, { step: 'done', ok: true }, r.stderr);
    const lines = r.stderr.split('\n').filter((l) => l.includes('sirius tracing'));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /refused the API key \(unknown to it, or revoked\): 401/);
    assert.ok(!r.stderr.includes(wrong), 'the key is not printed');
    assert.equal(await processCount('wrong-key'), 0);
  });

  test('refused data is counted as dropped, without a request per record, then tried again after the pause', async () => {
    const p: ProcessInfo = {
      process_id: randomUUID(), exe: 'uploader-no-key', username: 'u', realname: 'U', computer: 'box', distro: 'linux',
      cpu_brand: 'cpu', tsc_frequency: 1e9, start_time: String(BigInt(Date.now()) * 1_000_000n), start_ticks: '0',
      parent_process_id: null, properties: {},
    };
    const s: StreamInfo = { stream_id: randomUUID(), process_id: p.process_id, tags: ['log'], properties: {} };
    const statuses: number[] = [];
    const inner = fetchTransport(server.url);
    const transport: Transport = {
      url: inner.url,
      keyed: inner.keyed,
      async post(path, body, type) {
        const r = await inner.post(path, body, type);
        statuses.push(r.ok ? 200 : r.status);
        return r;
      },
    };
    let clock = 0;
    const budget = Budget.create(1 << 30);
    const warnings: string[] = [];
    const json = (kind: 'process' | 'stream', path: string, v: object, streamId?: string): Job =>
      ({ kind, path, body: JSON.stringify(v), contentType: 'application/json', bytes: 0, events: 0, streamId });
    const uploader = new Uploader({
      transport, budget, warn: (m) => warnings.push(m), refusedPauseMs: 60_000, now: () => clock,
      register: () => [json('process', '/ingestion/insert_process', p), json('stream', '/ingestion/insert_stream', s, s.stream_id)],
    });
    const block = (events: number): Job => {
      const enc = new BlockEncoder();
      for (let i = 0; i < events; i++) enc.log(i, LogLevel.info, 'keys', `line ${i}`);
      const body = encodeBlock(
        { block_id: randomUUID(), stream_id: s.stream_id, process_id: p.process_id, begin_time: BigInt(p.start_time), begin_ticks: 0n,
          end_time: BigInt(p.start_time) + BigInt(events), end_ticks: BigInt(events), nb_objects: events },
        enc.finish(), lz4SectionsCodec(lz4Codec),
      );
      budget.charge(body.length);
      return { kind: 'block', path: '/ingestion/insert_block', body, contentType: 'application/octet-stream', bytes: body.length, events, streamId: s.stream_id };
    };
    uploader.enqueue(json('process', '/ingestion/insert_process', p));
    uploader.enqueue(json('stream', '/ingestion/insert_stream', s, s.stream_id));
    for (let i = 0; i < 50; i++) uploader.enqueue(block(3));
    await uploader.drained();
    assert.deepEqual(statuses, [401], 'one request: the rest is dropped unsent during the pause');
    assert.equal(budget.dropped, 150, 'every refused event is counted');
    assert.equal(budget.inflight, 0, 'the refused blocks gave their memory back');
    assert.equal(warnings.length, 1, warnings.join('\n'));

    uploader.enqueue(block(2));
    await uploader.drained();
    assert.deepEqual(statuses, [401], 'still within the pause');
    clock += 60_001;
    uploader.enqueue(block(4));
    await uploader.drained();
    assert.deepEqual(statuses, [401, 401], 'after the pause, one record is tried again');
    assert.equal(budget.dropped, 156);
    assert.equal(warnings.length, 1, 'the message is printed once');
    uploader.stop();
  });
});
