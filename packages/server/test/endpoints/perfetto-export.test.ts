/**
 * `GET /api/perfetto/:process_id` end to end: CPU blocks sent over HTTP to ingestion, the trace downloaded
 * from the analytics role and read back with an independent Perfetto reader.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockEncoder, encodeBlock, type BlockMeta } from '@sirius/transit';
import { startServer, type RunningServer } from '../../src/serve.js';
import { lz4Codec } from '../../src/lake/lz4-codec.js';
import { T0, TSC, makeProcess, makeStream, post } from '../lakehouse/lake-fixtures.js';
import { decodeTrace } from '../analytics/perfetto-reader.js';

let server: RunningServer;
let dir: string;
const proc = makeProcess({ exe: 'spinner' });
const main = { ...makeStream(proc.process_id, ['cpu']), properties: { thread_name: 'main' } };
const worker = { ...makeStream(proc.process_id, ['cpu']), properties: { thread_name: 'worker 1' } };
const range = `begin=${new Date(Number(T0 / 1_000_000n) - 3_600_000).toISOString()}&end=${new Date(Number(T0 / 1_000_000n) + 3_600_000).toISOString()}`;

function block(streamId: string, spans: Array<[string, number, number]>): Uint8Array {
  const enc = new BlockEncoder();
  for (const [name, begin] of spans) enc.beginThreadSpan(begin, name, 'game', 'loop.ts', 7);
  for (const [name, , end] of [...spans].reverse()) enc.endThreadSpan(end, name, 'game', 'loop.ts', 7);
  const meta: BlockMeta = {
    block_id: crypto.randomUUID(), stream_id: streamId, process_id: proc.process_id,
    begin_time: T0, begin_ticks: 0n, end_time: T0 + 50_000n, end_ticks: 100_000n, nb_objects: spans.length * 2,
  };
  return encodeBlock(meta, enc.finish(), lz4Codec);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sirius-perfetto-'));
  server = await startServer({ httpPort: 0, dataDir: dir, sqlConnectionString: 'memory://', objectStoreUri: 'memory://', roles: ['ingestion', 'analytics'], quiet: true });
  await post(server, 'insert_process', proc);
  for (const s of [main, worker]) await post(server, 'insert_stream', s);
  // nested spans: frame ⊃ update ⊃ physics on main; one job on the worker (ticks at 2 GHz: 2 ticks per ns)
  await post(server, 'insert_block', block(main.stream_id, [['frame', 0, 90_000], ['update', 10_000, 60_000], ['physics', 20_000, 40_000]]));
  await post(server, 'insert_block', block(worker.stream_id, [['job', 30_000, 80_000]]));
});

after(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

test('a process trace downloads as Perfetto: one track per thread, nested slices at the right times', async () => {
  const r = await fetch(`${server.url}/api/perfetto/${proc.process_id}?${range}`);
  assert.equal(r.status, 200, await r.clone().text());
  assert.match(r.headers.get('content-disposition') ?? '', /\.perfetto-trace"/);
  const trace = decodeTrace(new Uint8Array(await r.arrayBuffer()));
  const threadNames = [...trace.tracks.values()].map((t) => t.threadName).filter(Boolean).sort();
  assert.deepEqual(threadNames, ['main', 'worker 1']);
  assert.equal([...trace.tracks.values()].find((t) => t.processName)?.processName, 'spinner');
  const slices = trace.slices.map((s) => ({ name: s.name, depth: s.depth, begin: s.begin - T0, end: s.end - T0 }));
  slices.sort((a, b) => Number(a.begin - b.begin));
  const ns = (ticks: number) => BigInt(ticks * (1e9 / TSC));
  assert.deepEqual(slices, [
    { name: 'frame', depth: 0, begin: ns(0), end: ns(90_000) },
    { name: 'update', depth: 1, begin: ns(10_000), end: ns(60_000) },
    { name: 'physics', depth: 2, begin: ns(20_000), end: ns(40_000) },
    { name: 'job', depth: 0, begin: ns(30_000), end: ns(80_000) },
  ]);
});

test('bad or unknown process ids get a 4xx with a reason', async () => {
  const bad = await fetch(`${server.url}/api/perfetto/not-a-uuid?${range}`);
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).error, /not a process id/);
  const unknown = await fetch(`${server.url}/api/perfetto/${crypto.randomUUID()}?${range}`);
  assert.equal(unknown.status, 404);
  assert.match((await unknown.json()).error, /no process/);
});
