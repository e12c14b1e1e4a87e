/**
 * Tail sampling inside the real sender (encoding, LZ4, HTTP into a real server, in-memory lake), fed by a
 * recorder on a virtual clock: hand-offs that cut frames in two, slow frames, an error log and a keepTrace
 * mark. The stored cpu blocks must hold exactly the expected frames, each block self-contained; with
 * `sampling: false` every frame is stored; when nothing is kept the window and the memory bound stay flat.
 * Consecutive kept frames go out as one block (bounded in time), separate runs as separate blocks, and the
 * window's raw records are what the memory bound is charged for.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startServer, transitCodecs, type RunningServer } from '@sirius/server';
import { decodeBlock, lz4SectionsCodec, type ProcessInfo, type TransitEvent } from '@sirius/transit';
import { Budget } from '../src/core/budget.js';
import { FRAME_SPAN, FRAME_TARGET, KEEP_TRACE_TARGET } from '../src/core/frames.js';
import { Recorder } from '../src/core/recorder.js';
import { BEGIN_THREAD, END_THREAD, type Batch } from '../src/core/records.js';
import { resolveSampling, type SamplingOptions } from '../src/core/sampling-settings.js';
import { DISCARDED_BLOCKS_METRIC, KEPT_BLOCKS_METRIC, KEPT_BYTES_METRIC, Sender } from '../src/core/sender.js';
import { fetchTransport, type Transport } from '../src/core/transport.js';
import { lz4Codec } from '../src/platform/node/lz4-codec.js';
import { readStreams } from './support/read-lake.js';

let server: RunningServer;
let dir: string;
/** stopped at the end even when a test fails half-way (a live uploader would keep the process up) */
const senders: Sender[] = [];
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sirius-sampling-'));
  server = await startServer({ httpPort: 0, dataDir: dir, sqlConnectionString: 'memory://', objectStoreUri: 'memory://', roles: ['ingestion'], quiet: true });
});
after(async () => {
  for (const s of senders) s.stop();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

interface Game {
  sender: Sender;
  budget: Budget;
  processId: string;
  /** begin of frame i, ms of the virtual clock */
  begins: number[];
  /** runs frames [from, to) at 60 fps of virtual time; frame i lasts `ms(i)` */
  frames(from: number, to: number, ms: (i: number) => number, during?: (i: number) => void): void;
  flushAll(): void;
  log(level: number, target: 'game' | 'keep', msg: string): void;
}

/** a block as it was posted: its size and events (ticks made absolute) */
interface Posted { bytes: number; streamId: string; events: (TransitEvent & { abs: number })[] }

function game(sampling: SamplingOptions | false, maxWindowBytes?: number, posted?: Posted[]): Game {
  const processId = randomUUID();
  const start = BigInt(Date.now()) * 1_000_000n;
  const info: ProcessInfo = {
    process_id: processId, exe: 'sampling-sender-test', username: 'u', realname: 'U', computer: 'box', distro: 'linux',
    cpu_brand: 'cpu', tsc_frequency: 1e9, start_time: String(start), start_ticks: '0', parent_process_id: null, properties: {},
  };
  let t = 0;
  const budget = Budget.create(64 << 20);
  const settings = resolveSampling(sampling === false ? false : { ...sampling, maxWindowBytes });
  const http = fetchTransport(server.url);
  const transport: Transport = posted === undefined ? http : {
    url: http.url,
    post(path, body, type) {
      if (path === '/ingestion/insert_block') {
        const { meta, events } = decodeBlock(body as Uint8Array, transitCodecs);
        const begin = Number(meta.begin_ticks);
        posted.push({ bytes: (body as Uint8Array).byteLength, streamId: meta.stream_id, events: events.map((e) => ({ ...e, abs: begin + e.ticks })) });
      }
      return http.post(path, body, type);
    },
  };
  const sender = new Sender({
    process: info, logStreamId: randomUUID(), metricsStreamId: randomUUID(), transport,
    codec: lz4SectionsCodec(lz4Codec), budget, nowTicks: () => 0, newId: randomUUID, sampling: settings, random: () => 1,
  });
  senders.push(sender);
  sender.hello({ type: 'thread', thread: 't0', threadName: 'main', threadId: 0, originOffsetMs: 0, cpuStreamId: randomUUID() });
  const rec = new Recorder({ clock: () => t, thread: 't0', spanIdBase: 0 });
  rec.sink = {
    submit(b: Batch) {
      if (!budget.tryCharge(b.bytes)) return false;
      sender.batch({ ...b, f64: b.f64.slice(0, b.slots) });
      return true;
    },
    reuse: () => undefined,
    countDropped: (n: number) => budget.countDropped(n),
  };
  const frame = rec.interner.span(FRAME_SPAN, FRAME_TARGET, '', 0);
  const work = rec.interner.span('work', 'game', '', 0);
  const inner = rec.interner.span('inner', 'game', '', 0);
  const targets = { game: rec.interner.log('game'), keep: rec.interner.log(KEEP_TRACE_TARGET) };
  const begins: number[] = [];
  return {
    sender, budget, processId, begins,
    frames(from, to, ms, during) {
      for (let i = from; i < to; i++) {
        t = Math.max(t + 0.5, i * (1000 / 60));
        const d = ms(i);
        begins[i] = t;
        rec.threadSpanAt(BEGIN_THREAD, frame, t);
        rec.threadSpanAt(BEGIN_THREAD, work, t + 0.1);
        rec.threadSpanAt(BEGIN_THREAD, inner, t + 0.2);
        t += d / 2;
        during?.(i); // mid-frame: logs, hand-offs
        rec.threadSpanAt(END_THREAD, inner, t);
        rec.threadSpanAt(END_THREAD, work, t + d / 4);
        t += d / 2;
        rec.threadSpanAt(END_THREAD, frame, t);
      }
    },
    flushAll: () => rec.flushAll(),
    log: (level, target, msg) => rec.logEvent(level, targets[target], msg, null),
  };
}

/** stored frames of a process (their begin, absolute ticks) and whether every cpu block is self-contained */
async function stored(processId: string): Promise<{ frames: number[]; selfContained: boolean; blocks: number }> {
  const streams = (await readStreams(server.lake)).filter((s) => s.process_id === processId && s.tags.includes('cpu'));
  assert.equal(streams.length, 1);
  const frames = streams[0]!.events.flatMap((e) => (e.kind === 'begin_thread_span' && e.name === FRAME_SPAN ? [e.abs] : []));
  const rows = await server.lake.sql.query<{ block_id: string; stream_id: string }>(
    'SELECT block_id, stream_id FROM blocks WHERE process_id = $1 AND stream_id = $2', [processId, streams[0]!.stream_id],
  );
  let selfContained = true;
  for (const r of rows) {
    const bytes = await server.lake.objects.get(`blobs/${processId}/${r.stream_id}/${r.block_id}`);
    let depth = 0;
    for (const e of decodeBlock(bytes!, transitCodecs).events) {
      if (e.kind === 'begin_thread_span') depth++;
      else if (e.kind === 'end_thread_span' && --depth < 0) selfContained = false;
    }
    if (depth !== 0) selfContained = false;
  }
  return { frames, selfContained, blocks: rows.length };
}

test('sampled: exactly the frames around slow frames, an error and a keepTrace, in self-contained blocks', async () => {
  const g = game({ baseline: 0 });
  const slow = new Set([20, 21, 90]);
  g.frames(0, 150, (i) => (slow.has(i) ? 40 : 5), (i) => {
    if (i === 50) g.log(2, 'game', 'boom');
    if (i === 120) g.log(4, 'keep', 'look here');
    if (i % 7 === 3) g.flushAll(); // hand-offs in the middle of frames
  });
  g.flushAll();
  await g.sender.flush();
  g.sender.stop();
  const want = new Set<number>();
  for (const i of [20, 21, 90, 50, 120]) for (let j = i - 2; j <= i + 2; j++) want.add(j);
  const s = await stored(g.processId);
  const index = s.frames.map((abs) => g.begins.findIndex((b) => Math.abs(b * 1e6 - abs) < 1000));
  assert.deepEqual(index, [...want].sort((a, b) => a - b));
  assert.ok(s.selfContained, 'a stored cpu block begins or ends inside a span');
  assert.equal(g.budget.inflight, 0, 'every byte charged for the window was released');
});

test('sampling: false stores every frame', async () => {
  const g = game(false);
  g.frames(0, 150, (i) => (i === 30 ? 40 : 5), (i) => { if (i % 7 === 3) g.flushAll(); });
  g.flushAll();
  await g.sender.flush();
  g.sender.stop();
  assert.equal((await stored(g.processId)).frames.length, 150);
});

test('nothing kept: the window stays within its byte bound and the memory bound is released', async () => {
  const g = game({ baseline: 0, windowMs: 1000 }, 16 * 1024);
  let maxWindow = 0;
  for (let second = 0; second < 30; second++) {
    g.frames(second * 60, (second + 1) * 60, () => 5);
    g.flushAll();
    maxWindow = Math.max(maxWindow, g.sender.samplingWindow.bytes);
  }
  g.sender.decide(Infinity);
  assert.ok(maxWindow > 0 && maxWindow <= 16 * 1024, `window held ${maxWindow} bytes`);
  assert.ok(g.sender.samplingWindow.remembered < 200, `remembered ${g.sender.samplingWindow.remembered} frames`);
  await g.sender.flush();
  g.sender.stop();
  assert.equal((await stored(g.processId)).frames.length, 0);
  assert.equal(g.budget.inflight, 0);
});

/** the cpu blocks posted (in order), each as its frames' indexes; every frame's six events checked once */
function cpuBlocks(g: Game, posted: Posted[], cpuStreamId: string): number[][] {
  return posted.filter((p) => p.streamId === cpuStreamId).map((p) => {
    const frames = p.events.flatMap((e) => (e.kind === 'begin_thread_span' && e.name === FRAME_SPAN ? [e.abs] : []))
      .map((abs) => g.begins.findIndex((b) => Math.abs(b * 1e6 - abs) < 1000));
    // each frame: frame, work, inner begun then ended, nothing else, nothing twice
    const shape = p.events.map((e) => `${e.kind === 'begin_thread_span' ? '+' : '-'}${(e as { name: string }).name}`);
    assert.deepEqual(shape, frames.flatMap(() => ['+frame', '+work', '+inner', '-inner', '-work', '-frame']));
    return frames;
  });
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test('a run of kept frames is one block, even when its frames are decided at different times', async () => {
  const posted: Posted[] = [];
  const g = game({ baseline: 0, windowMs: 1000 }, undefined, posted);
  g.frames(0, 60, (i) => (i === 30 ? 40 : 5), (i) => { if (i % 7 === 3) g.flushAll(); });
  g.flushAll();
  // frames 28..31 are decided now, 32 (still in its window) later: the block waits for it
  g.sender.decide(g.begins[32]! + 1000);
  assert.equal(g.sender.samplingWindow.blocks, 60 - 32);
  await g.sender.flush();
  g.sender.stop();
  const cpu = [...new Set(posted.flatMap((p) => (p.events.some((e) => e.kind === 'begin_thread_span') ? [p.streamId] : [])))];
  assert.equal(cpu.length, 1);
  assert.deepEqual(cpuBlocks(g, posted, cpu[0]!), [range(28, 32)]);
  // the report: 5 segments kept, the others discarded, kept bytes = what was uploaded for them
  const counts: Record<string, number> = {};
  for (const p of posted) for (const e of p.events) if (e.kind === 'int_metric') counts[e.name] = (counts[e.name] ?? 0) + Number(e.value);
  const uploaded = posted.filter((p) => p.streamId === cpu[0]).reduce((n, p) => n + p.bytes, 0);
  assert.deepEqual([counts[KEPT_BLOCKS_METRIC], counts[DISCARDED_BLOCKS_METRIC], counts[KEPT_BYTES_METRIC]], [5, 55, uploaded]);
  const s = await stored(g.processId);
  assert.equal(s.blocks, 1);
  assert.ok(s.selfContained);
  assert.equal(g.budget.inflight, 0);
});

test('kept runs with discarded frames between them are separate blocks', async () => {
  const posted: Posted[] = [];
  const g = game({ baseline: 0 }, undefined, posted);
  // 23 lies between the runs of 20 and 26 (2 frames either side), 29..42 between those of 26 and 45
  const slow = new Set([20, 26, 45]);
  g.frames(0, 60, (i) => (slow.has(i) ? 40 : 5), (i) => { if (i % 11 === 5) g.flushAll(); });
  g.flushAll();
  await g.sender.flush();
  g.sender.stop();
  const s = await stored(g.processId);
  const streams = (await readStreams(server.lake)).filter((x) => x.process_id === g.processId && x.tags.includes('cpu'));
  assert.deepEqual(cpuBlocks(g, posted, streams[0]!.stream_id), [range(18, 22), range(24, 28), range(43, 47)]);
  assert.equal(s.blocks, 3);
  assert.ok(s.selfContained);
});

test('a long kept run is cut into blocks of at most a second, every frame in exactly one', async () => {
  const posted: Posted[] = [];
  const g = game({ policy: () => true, windowMs: 60_000 }, undefined, posted);
  g.frames(0, 180, () => 5, (i) => { if (i % 13 === 6) g.flushAll(); });
  g.flushAll();
  await g.sender.flush();
  g.sender.stop();
  const streams = (await readStreams(server.lake)).filter((x) => x.process_id === g.processId && x.tags.includes('cpu'));
  const blocks = cpuBlocks(g, posted, streams[0]!.stream_id);
  assert.deepEqual(blocks.flat(), range(0, 179));
  assert.ok(blocks.length >= 3 && blocks.length <= 4, `${blocks.length} blocks`);
  for (const b of blocks) assert.ok(g.begins[b.at(-1)!]! + 5 - g.begins[b[0]!]! <= 1000, `block of frames ${b[0]}..${b.at(-1)}`);
  assert.equal(g.budget.inflight, 0);
});

test('a window full of raw segments: the memory bound is charged for exactly what the window holds, within its byte bound', async () => {
  const bound = 8 * 1024;
  const g = game({ baseline: 0, windowMs: 60_000 }, bound);
  let maxWindow = 0;
  for (let step = 0; step < 60; step++) {
    g.frames(step * 10, (step + 1) * 10, () => 5);
    g.flushAll();
    const w = g.sender.samplingWindow;
    // nothing is due (a minute's window), so only the byte bound decides; nothing kept, nothing else queued
    assert.ok(w.bytes <= bound, `window held ${w.bytes} bytes`);
    assert.equal(g.budget.inflight, w.bytes);
    // a segment is one frame of six thread-span records, two f64 slots each: held raw, not compressed
    assert.equal(w.bytes, w.blocks * 6 * 2 * 8);
    maxWindow = Math.max(maxWindow, w.bytes);
  }
  assert.ok(maxWindow > bound / 2, `the window filled up to ${maxWindow} bytes`);
  await g.sender.flush();
  g.sender.stop();
  assert.equal((await stored(g.processId)).frames.length, 0);
  assert.equal(g.budget.inflight, 0);
});
