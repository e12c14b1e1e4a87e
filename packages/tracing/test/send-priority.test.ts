/**
 * When a flush waits (on SIGTERM, against a deadline), queued data is sent in priority order: the
 * process, its streams, then logs, metrics and spans, oldest first within each. Runs the real sender
 * (encoding, LZ4, HTTP) against a real server; the transport only holds the first request until everything
 * is queued, and records the order requests start in.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startServer, type RunningServer } from '@sirius/server';
import { decodeBlock, lz4SectionsCodec, type ProcessInfo } from '@sirius/transit';
import { transitCodecs } from '@sirius/server';
import { Budget } from '../src/core/budget.js';
import { Recorder } from '../src/core/recorder.js';
import { Sender } from '../src/core/sender.js';
import { fetchTransport, type Transport } from '../src/core/transport.js';
import { lz4Codec } from '../src/platform/node/lz4-codec.js';
import type { Batch } from '../src/core/records.js';
import { readStreams } from './support/read-lake.js';

let server: RunningServer;
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sirius-priority-'));
  server = await startServer({ httpPort: 0, dataDir: dir, sqlConnectionString: 'memory://', objectStoreUri: 'memory://', roles: ['ingestion'], quiet: true });
});
after(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

/**
 * Records three rounds of spans, metrics and logs (in that order) while the first request is held, then
 * lets requests go and waits for all of them: through `flush()` (a waiter: priority order) or by polling the
 * stored count (nobody waits: first in first out).
 */
async function sendRounds(wait: 'flush' | 'poll'): Promise<string[]> {
  const started: string[] = [];
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const inner = fetchTransport(server.url);
  const transport: Transport = {
    url: inner.url,
    async post(path, body, type) {
      if (path === '/ingestion/insert_block') {
        const { meta, events } = decodeBlock(body as Uint8Array, transitCodecs);
        started.push(`block ${streamName.get(meta.stream_id)} ${events.length}`);
      } else {
        const o = JSON.parse(body as string) as { tags?: string[] };
        started.push(o.tags === undefined ? 'process' : `stream ${o.tags[0]}`);
      }
      await gate;
      return inner.post(path, body, type);
    },
  };
  const start = BigInt(Date.now()) * 1_000_000n;
  const process: ProcessInfo = {
    process_id: randomUUID(), exe: 'priority-test', username: 'u', realname: 'U', computer: 'box', distro: 'linux',
    cpu_brand: 'cpu', tsc_frequency: 1e9, start_time: String(start), start_ticks: '0', parent_process_id: null, properties: {},
  };
  const budget = Budget.create(1 << 30);
  const ids = { log: randomUUID(), metrics: randomUUID(), cpu: randomUUID() };
  const streamName = new Map<string, string>(Object.entries(ids).map(([k, v]) => [v, k]));
  const sender = new Sender({
    process, logStreamId: ids.log, metricsStreamId: ids.metrics, transport, codec: lz4SectionsCodec(lz4Codec), budget,
    nowTicks: () => 0, newId: randomUUID, concurrency: 2,
  });
  sender.hello({ type: 'thread', thread: 't0', threadName: 'main', threadId: 0, originOffsetMs: 0, cpuStreamId: ids.cpu });

  // a recorder whose batches go straight to the sender, flushed stream by stream in a mixed order
  let t = 0;
  const rec = new Recorder({ clock: () => ++t, thread: 't0', spanIdBase: 0 });
  rec.sink = {
    submit(b: Batch) {
      budget.charge(b.bytes);
      sender.batch({ ...b, f64: b.f64.slice() });
      return true;
    },
    reuse: () => undefined,
    countDropped: (n: number) => budget.countDropped(n),
  };
  const desc = rec.interner.span('work', 'app', '', 0);
  const metric = rec.interner.metric('m', 'count', 'app');
  const target = rec.interner.log('app');
  for (let round = 1; round <= 3; round++) {
    for (let i = 0; i < round; i++) rec.threadSpan(0, desc), rec.threadSpan(1, desc);
    rec.flushAll(); // cpu only
    for (let i = 0; i < round; i++) rec.metric(metric, i, false, null);
    rec.flushAll();
    for (let i = 0; i < round; i++) rec.logEvent(4, target, `round ${round}`, null);
    rec.flushAll();
  }
  open();
  if (wait === 'flush') await sender.flush();
  else {
    const deadline = Date.now() + 60_000;
    while (sender.storedBlocks < 9 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  }
  sender.stop();
  const stored = (await readStreams(server.lake)).filter((s) => s.process_id === process.process_id);
  assert.deepEqual(stored.map((s) => [s.tags[0], s.events.length]).sort(), [['cpu', 12], ['log', 6], ['metrics', 6]]);
  return started;
}

test('a flush sends the process, streams, then logs, metrics and spans, whatever order they were recorded in', async () => {
  assert.deepEqual(await sendRounds('flush'), [
    'process', 'stream log', 'stream metrics', 'stream cpu',
    'block log 1', 'block log 2', 'block log 3',
    'block metrics 1', 'block metrics 2', 'block metrics 3',
    'block cpu 2', 'block cpu 4', 'block cpu 6',
  ]);
});

test('with no flush waiting, blocks go in the order recorded: a backlog of one kind cannot starve another', async () => {
  assert.deepEqual(await sendRounds('poll'), [
    'process', 'stream log', 'stream metrics', 'stream cpu',
    'block cpu 2', 'block metrics 1', 'block log 1',
    'block cpu 4', 'block metrics 2', 'block log 2',
    'block cpu 6', 'block metrics 3', 'block log 3',
  ]);
});
