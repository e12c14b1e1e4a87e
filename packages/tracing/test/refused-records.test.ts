/**
 * Records the server refuses (400/409/413) against a real server on loopback: the client drops them with a
 * counted error and a single warning instead of retrying forever, and keeps sending everything else; and
 * what it can repair itself (NUL, lone surrogates in its own description) it repairs, so no data is lost.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { startServer, type RunningServer } from '@sirius/server';
import { BlockEncoder, encodeBlock, LogLevel, lz4SectionsCodec, type ProcessInfo, type StreamInfo } from '@sirius/transit';
import { Budget } from '../src/core/budget.js';
import { fetchTransport, type Transport } from '../src/core/transport.js';
import { Uploader, type Job } from '../src/core/uploader.js';
import { lz4Codec } from '../src/platform/node/lz4-codec.js';
import { lakeTargets } from './support/lake-targets.js';
import { readStreams } from './support/read-lake.js';
import { waitFor } from './support/wait-for.js';

const target = lakeTargets.find((t) => t.name === 'pglite+file')!;
const codec = lz4SectionsCodec(lz4Codec);

function processInfo(over: Partial<ProcessInfo> = {}): ProcessInfo {
  return {
    process_id: randomUUID(), exe: 'refused-test', username: 'u', realname: 'U', computer: 'box', distro: 'linux',
    cpu_brand: 'cpu', tsc_frequency: 1e9, start_time: '1763890000000000000', start_ticks: '0', parent_process_id: null,
    properties: {}, ...over,
  };
}

const processJob = (p: ProcessInfo): Job => ({
  kind: 'process', path: '/ingestion/insert_process', body: JSON.stringify(p), contentType: 'application/json', bytes: 0, events: 0,
});
const streamJob = (s: StreamInfo): Job => ({
  kind: 'stream', path: '/ingestion/insert_stream', body: JSON.stringify(s), contentType: 'application/json', bytes: 0, events: 0,
  streamId: s.stream_id,
});
function blockJob(s: StreamInfo, events: number, text = 'line', blockId = randomUUID()): Job {
  const enc = new BlockEncoder();
  for (let i = 0; i < events; i++) enc.log(i, LogLevel.info, 'refused', `${text} ${i}`);
  const body = encodeBlock(
    { block_id: blockId, stream_id: s.stream_id, process_id: s.process_id, begin_time: 1763890000000000000n, begin_ticks: 0n,
      end_time: 1763890000000000000n + BigInt(events), end_ticks: BigInt(events), nb_objects: events },
    enc.finish(),
    codec,
  );
  return { kind: 'block', path: '/ingestion/insert_block', body, contentType: 'application/octet-stream', bytes: body.length, events, streamId: s.stream_id };
}

/** The real HTTP transport, counting what it sends and what it gets back per path. */
function countingTransport(url: string) {
  const inner = fetchTransport(url);
  const sent: Array<{ path: string; status: number }> = [];
  const transport: Transport = {
    async post(path, body, contentType) {
      const r = await inner.post(path, body, contentType);
      sent.push({ path, status: r.ok ? 200 : r.status });
      return r;
    },
  };
  return { transport, sent };
}

function uploaderFor(url: string, streams: Map<string, StreamInfo>, process: ProcessInfo) {
  const { transport, sent } = countingTransport(url);
  const budget = Budget.create(1 << 30);
  const warnings: string[] = [];
  const uploader = new Uploader({
    transport,
    budget,
    backoff: { baseMs: 1, capMs: 5 },
    warn: (m) => warnings.push(m),
    register: (id) => [processJob(process), streamJob(streams.get(id)!)],
  });
  // as the sender does: a block's bytes are charged when it is queued, released when it is stored or dropped
  const enqueue = (job: Job) => {
    budget.charge(job.bytes);
    uploader.enqueue(job);
  };
  return { uploader, enqueue, budget, warnings, sent };
}

/** Resolves with `p`, or fails the test when it has not settled by the deadline (a client looping forever). */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

describe('records the server refuses', { skip: target.skip }, () => {
  let server: RunningServer;
  let cleanup: () => Promise<void> = async () => {};
  before(async () => {
    const lake = await target.open();
    cleanup = lake.cleanup;
    server = await startServer({ httpPort: 0, dataDir: lake.dataDir, roles: ['ingestion'], quiet: true });
  });
  after(async () => {
    await server?.close();
    await cleanup();
  });

  const rowsOf = async (table: 'processes' | 'streams' | 'blocks', column: string, id: string) =>
    (await server.lake.sql.query(`SELECT 1 FROM ${table} WHERE ${column} = $1`, [id])).length;

  test('a refused process (2,000 properties): sent once, its streams and blocks dropped unsent and counted; the next process works', async () => {
    const p = processInfo({ properties: Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, 'v'])) });
    const s: StreamInfo = { stream_id: randomUUID(), process_id: p.process_id, tags: ['log'], properties: {} };
    const c = uploaderFor(server.url, new Map([[s.stream_id, s]]), p);
    c.enqueue(processJob(p));
    c.enqueue(streamJob(s));
    for (let i = 0; i < 5; i++) c.enqueue(blockJob(s, 4));
    await within(c.uploader.drained(), 20_000, 'the uploader');
    assert.deepEqual(c.sent, [{ path: '/ingestion/insert_process', status: 400 }]);
    assert.equal(c.budget.dropped, 20, 'every event of the dropped blocks is counted');
    assert.equal(c.uploader.dropped, 7);
    assert.equal(c.budget.inflight, 0, 'the dropped blocks gave their memory back');
    assert.equal(c.warnings.length, 1, c.warnings.join('\n'));
    assert.match(c.warnings[0]!, /refused a process record \(400 .*properties: has more than 1024 properties/);
    assert.equal(await rowsOf('processes', 'process_id', p.process_id), 0);

    // another process of the same program, on the same server, is stored as usual
    const q = processInfo();
    const t: StreamInfo = { stream_id: randomUUID(), process_id: q.process_id, tags: ['log'], properties: {} };
    const d = uploaderFor(server.url, new Map([[t.stream_id, t]]), q);
    d.enqueue(processJob(q));
    d.enqueue(streamJob(t));
    for (let i = 0; i < 3; i++) d.enqueue(blockJob(t, 2));
    await within(d.uploader.drained(), 20_000, 'the second uploader');
    assert.equal(d.uploader.stored, 3);
    assert.equal(d.budget.dropped, 0);
    assert.deepEqual(d.warnings, []);
  });

  test('a refused stream (NUL in a tag) and a block re-sent with other bytes (409): dropped and counted, the other stream keeps flowing', async () => {
    const p = processInfo();
    const bad: StreamInfo = { stream_id: randomUUID(), process_id: p.process_id, tags: ['cpu\u0000'], properties: {} };
    const good: StreamInfo = { stream_id: randomUUID(), process_id: p.process_id, tags: ['log'], properties: {} };
    const c = uploaderFor(server.url, new Map([[bad.stream_id, bad], [good.stream_id, good]]), p);
    c.enqueue(processJob(p));
    c.enqueue(streamJob(bad));
    c.enqueue(streamJob(good));
    const reused = randomUUID();
    for (let i = 0; i < 4; i++) {
      c.enqueue(blockJob(bad, 3));
      c.enqueue(blockJob(good, 2));
    }
    c.enqueue(blockJob(good, 5, 'first', reused));
    await within(c.uploader.drained(), 20_000, 'the uploader');
    c.enqueue(blockJob(good, 7, 'rewritten', reused));
    await within(c.uploader.drained(), 20_000, 'the uploader');

    assert.equal(c.uploader.stored, 5);
    assert.equal(c.budget.dropped, 4 * 3 + 7, 'the refused stream\'s events and the 409 block\'s');
    assert.equal(c.sent.filter((r) => r.path === '/ingestion/insert_stream' && r.status === 400).length, 1, 'the refused stream is not re-sent');
    assert.equal(c.sent.filter((r) => r.path === '/ingestion/insert_block').length, 6, 'no block of the refused stream is sent');
    assert.equal(c.sent.filter((r) => r.status === 409).length, 1, 'a 409 is not retried');
    assert.equal(c.warnings.length, 2, c.warnings.join('\n'));
    assert.match(c.warnings.find((w) => w.includes('(400 '))!, /refused a stream record .*tags\[0\]: contains a NUL character/);
    assert.match(c.warnings.find((w) => w.includes('(409 '))!, new RegExp(`refused a block record \\(409 .*${reused}`));
    assert.equal(c.budget.inflight, 0);
    assert.equal(await rowsOf('streams', 'stream_id', bad.stream_id), 0);
    const [row] = await server.lake.sql.query<{ n: string }>('SELECT count(*) AS n FROM blocks WHERE stream_id = $1', [good.stream_id]);
    assert.equal(Number(row!.n), 5);
  });

  /** Runs test/fixtures/metadata-child.ts against the server; resolves with its done step and stderr. */
  async function child(init: object, n: number) {
    const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./fixtures/metadata-child.ts', import.meta.url))], {
      env: { ...process.env, SIRIUS_TELEMETRY_URL: server.url, CHILD_INIT: JSON.stringify(init), CHILD_N: String(n) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    const code = await within(new Promise<number | null>((r) => proc.on('exit', r)), 60_000, `the child (stderr: ${err})`);
    const done = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { step: string; ok: boolean }).find((s) => s.step === 'done');
    return { code, done, stderr: err };
  }

  test('public API: NUL and lone surrogates in exe, properties and the thread name are repaired, and every line arrives', async () => {
    const r = await child({ exe: 'game\uDC00', properties: { build: 'a\u0000b', ['k\uD800']: 'v', ok: 'caf\u00e9 \u{1F600}' }, threadName: 'main\uD83D' }, 25);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.done, { step: 'done', ok: true }, r.stderr);
    assert.doesNotMatch(r.stderr, /sirius tracing/);
    const [p] = await server.lake.sql.query<{ process_id: string; properties: Record<string, string> }>(
      "SELECT process_id, properties FROM processes WHERE exe = 'game\uFFFD'",
    );
    assert.ok(p, 'the process is stored, its exe repaired');
    assert.equal(p.properties.build, 'a\uFFFDb');
    assert.equal(p.properties['k\uFFFD'], 'v');
    assert.equal(p.properties.ok, 'caf\u00e9 \u{1F600}', 'what was valid is kept as it was');
    const streams = (await readStreams(server.lake)).filter((s) => s.process_id === p.process_id);
    assert.equal(streams.find((s) => s.tags.includes('cpu'))?.properties.thread_name, 'main\uFFFD');
    const logs = streams.filter((s) => s.tags.includes('log')).flatMap((s) => s.events);
    assert.equal(logs.length, 25);
  });

  test('public API: a process the server refuses ends promptly with one warning, and the next process is stored', async () => {
    const refused = await child({ exe: 'too-many-properties', properties: Object.fromEntries(Array.from({ length: 1500 }, (_, i) => [`k${i}`, 'v'])) }, 10);
    assert.equal(refused.code, 0, refused.stderr);
    assert.deepEqual(refused.done, { step: 'done', ok: true }, 'shutdown settles: the refused data is given up, not retried');
    assert.equal(refused.stderr.match(/sirius tracing: the server refused a process record \(400 [^\n]*properties: has more than 1024/g)?.length, 1, refused.stderr);
    assert.equal((await server.lake.sql.query("SELECT 1 FROM processes WHERE exe = 'too-many-properties'")).length, 0);

    const next = await child({ exe: 'next-process', properties: { fine: 'yes' } }, 10);
    assert.deepEqual(next.done, { step: 'done', ok: true }, next.stderr);
    const pid = await waitFor('the next process', async () => {
      const [row] = await server.lake.sql.query<{ process_id: string }>("SELECT process_id FROM processes WHERE exe = 'next-process'");
      return row?.process_id;
    }, 5_000);
    const logs = (await readStreams(server.lake)).filter((s) => s.process_id === pid && s.tags.includes('log')).flatMap((s) => s.events);
    assert.equal(logs.length, 10);
  });
});
