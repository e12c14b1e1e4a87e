/**
 * Tail sampling: bytes uploaded by a 60 fps game with sampling on and off, into a real server (ingestion,
 * in-memory lake). The game is simulated on a virtual clock so the run is the same on any host: 60 s of
 * frames of 40 and of 200 spans (update/physics/ai, render/culling/draw, entity spans), a 40 ms hitch
 * every 10 s, an error log every 20 s, frame_time per frame. The real sender encodes, compresses (LZ4) and
 * uploads; a counting transport in front of fetch measures the bytes. Reports bytes per minute on and off,
 * their ratio (target ≥ 10×), and whether every slow frame's spans were uploaded.
 * Standalone: `node --conditions=sirius-source --import tsx bench/src/tail-sampling-bytes.ts`.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeBlock, lz4SectionsCodec, type ProcessInfo } from '@sirius/transit';
import { startServer, transitCodecs } from '@sirius/server';
import { Budget } from '../../packages/tracing/src/core/budget.js';
import { FRAME_SPAN, FRAME_TARGET, FRAME_TIME_METRIC, FRAME_TIME_UNIT } from '../../packages/tracing/src/core/frames.js';
import { Recorder } from '../../packages/tracing/src/core/recorder.js';
import { BEGIN_THREAD, END_THREAD, type Batch } from '../../packages/tracing/src/core/records.js';
import { resolveSampling } from '../../packages/tracing/src/core/sampling-settings.js';
import { Sender } from '../../packages/tracing/src/core/sender.js';
import { fetchTransport, type Transport } from '../../packages/tracing/src/core/transport.js';
import { lz4Codec } from '../../packages/tracing/src/platform/node/lz4-codec.js';

const SECONDS = 60;
const FPS = 60;
const HITCH_EVERY_S = 10;
const ERROR_EVERY_S = 20;

interface RunResult { cpuBytes: number; totalBytes: number; frameSpans: number; slowFramesUploaded: number; slowFrames: number }

async function simulate(url: string, sampled: boolean, entitySpans: number): Promise<RunResult> {
  let cpuBytes = 0;
  let totalBytes = 0;
  let frameSpans = 0;
  const uploadedFrameEnds = new Set<number>();
  const ids = { log: randomUUID(), metrics: randomUUID(), cpu: randomUUID() };
  const inner = fetchTransport(url);
  const transport: Transport = {
    url: inner.url,
    async post(path, body, type) {
      const n = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
      totalBytes += n;
      if (path === '/ingestion/insert_block') {
        const { meta, events } = decodeBlock(body as Uint8Array, transitCodecs);
        if (meta.stream_id === ids.cpu) {
          cpuBytes += n;
          for (const e of events) {
            if (e.kind === 'end_thread_span' && e.name === FRAME_SPAN) {
              frameSpans++;
              uploadedFrameEnds.add(Math.floor((Number(meta.begin_ticks) + Number(e.ticks)) / 1e6));
            }
          }
        }
      }
      return inner.post(path, body, type);
    },
  };
  const start = BigInt(Date.now()) * 1_000_000n;
  const process: ProcessInfo = {
    process_id: randomUUID(), exe: `bench-tail-sampling-${sampled ? 'on' : 'off'}`, username: 'u', realname: 'U', computer: 'box',
    distro: 'linux', cpu_brand: 'cpu', tsc_frequency: 1e9, start_time: String(start), start_ticks: '0', parent_process_id: null, properties: {},
  };
  let t = 0;
  const budget = Budget.create(256 << 20);
  const sender = new Sender({
    process, logStreamId: ids.log, metricsStreamId: ids.metrics, transport, codec: lz4SectionsCodec(lz4Codec), budget,
    nowTicks: () => t * 1e6, newId: randomUUID, concurrency: 2, sampling: sampled ? resolveSampling({}) : false,
    // the 1 % baseline draws from a seeded generator, so two runs (before and after a change) keep the same frames
    random: seeded(20261203),
  });
  sender.hello({ type: 'thread', thread: 't0', threadName: 'main', threadId: 0, originOffsetMs: 0, cpuStreamId: ids.cpu });
  const rec = new Recorder({ clock: () => t, thread: 't0', spanIdBase: 0 });
  rec.sink = {
    submit(b: Batch) {
      budget.charge(b.bytes);
      sender.batch({ ...b, f64: b.f64.slice(0, b.slots) });
      return true;
    },
    reuse: () => undefined,
    countDropped: (n: number) => budget.countDropped(n),
  };
  const i = rec.interner;
  const frame = i.span(FRAME_SPAN, FRAME_TARGET, '', 0);
  const frameTime = i.metric(FRAME_TIME_METRIC, FRAME_TIME_UNIT, FRAME_TARGET);
  const names = ['update', 'input', 'physics', 'ai', 'render', 'culling', 'draw'].map((n) => i.span(n, 'game', 'game.ts', 1));
  const entity = i.span('entity.tick', 'game', 'entity.ts', 7);
  const logTarget = i.log('game');
  // real spans do not last whole microseconds: seeded jitter keeps the compressor honest
  let seed = 12345;
  const jitter = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return 0.75 + (seed / 2 ** 32) * 0.5;
  };
  const span = (d: number, ms: number, inner?: () => void): void => {
    rec.threadSpanAt(BEGIN_THREAD, d, t);
    t += (ms / 2) * jitter();
    inner?.();
    t += (ms / 2) * jitter();
    rec.threadSpanAt(END_THREAD, d, t);
  };
  const slowEnds: number[] = [];
  const frames = SECONDS * FPS;
  for (let f = 0; f < frames; f++) {
    const begin = Math.max(t + 0.01, (f * 1000) / FPS); // after a hitch the next frame starts late
    t = begin;
    const hitch = f > 0 && f % (HITCH_EVERY_S * FPS) === 0;
    rec.threadSpanAt(BEGIN_THREAD, frame, t);
    span(names[0]!, 2, () => {
      span(names[1]!, 0.1);
      span(names[2]!, 1, () => { for (let e = 0; e < entitySpans; e++) span(entity, 0.6 / entitySpans); });
      span(names[3]!, 0.5);
    });
    span(names[4]!, hitch ? 40 : 4, () => { span(names[5]!, 0.3); span(names[6]!, 3); });
    if (f % (ERROR_EVERY_S * FPS) === ERROR_EVERY_S * FPS / 2) rec.logEvent(2, logTarget, 'lost connection (simulated)', null);
    rec.threadSpanAt(END_THREAD, frame, t);
    rec.floatMetricAt(frameTime, t - begin, t);
    if (hitch) slowEnds.push(Math.floor(t));
    if (f % FPS === FPS - 1) {
      rec.flushAll(); // the once-a-second hand-off
      sender.decide(t);
    }
  }
  rec.flushAll();
  await sender.flush();
  sender.stop();
  return { cpuBytes, totalBytes, frameSpans, slowFrames: slowEnds.length, slowFramesUploaded: slowEnds.filter((e) => uploadedFrameEnds.has(e)).length };
}

/** mulberry32: a small seeded uniform generator in [0, 1) */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export async function run(): Promise<Record<string, number | string>> {
  const dir = await mkdtemp(join(tmpdir(), 'sirius-bench-sampling-'));
  const server = await startServer({ httpPort: 0, dataDir: dir, sqlConnectionString: 'memory://', objectStoreUri: 'memory://', roles: ['ingestion'], quiet: true });
  try {
    const out: Record<string, number | string> = { 'frames simulated per run (60 fps, 60 s)': SECONDS * FPS };
    const perMinute = 60 / SECONDS;
    for (const [label, entitySpans] of [['40 spans/frame', 12], ['200 spans/frame', 172]] as const) {
      const off = await simulate(server.url, false, entitySpans);
      const on = await simulate(server.url, true, entitySpans);
      Object.assign(out, {
        [`${label}: bytes/min uploaded, sampling off`]: off.totalBytes * perMinute,
        [`${label}: bytes/min uploaded, sampling on`]: on.totalBytes * perMinute,
        [`${label}: ratio off/on, all streams (target ≥ 10)`]: off.totalBytes / on.totalBytes,
        [`${label}: ratio off/on, cpu streams only`]: off.cpuBytes / on.cpuBytes,
        [`${label}: frame spans uploaded, off / on`]: `${off.frameSpans} / ${on.frameSpans}`,
        [`${label}: slow frames uploaded, sampling on`]: `${on.slowFramesUploaded} of ${on.slowFrames}`,
      });
    }
    return out;
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await run());
}
