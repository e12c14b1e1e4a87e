/**
 * Platform runtime interface (core/platform.ts `PlatformRuntime`, which this module satisfies; the browser
 * runtime exports the same names):
 *   recorder: Recorder
 *   init(options: RuntimeInitOptions): void          // options.sampling → resolveSampling → Sender({ sampling })
 *   flush(timeoutMs: number): Promise<boolean>
 *   shutdown(timeoutMs: number): Promise<boolean>
 *   configuredShutdownTimeoutMs(): number
 *
 * Node wiring: one {@link Recorder} per thread (created when this module loads), a sender worker started by
 * `init()` on the main thread, worker threads attached automatically through worker_threads environment
 * data, a 1 s flush timer, and flushes on `beforeExit` and SIGTERM — all unref'd or time-bounded so that
 * a healthy process is never kept alive.
 */
import { randomUUID } from 'node:crypto';
import { getEnvironmentData, isMainThread, setEnvironmentData, threadId } from 'node:worker_threads';
import { Budget } from '../../core/budget.js';
import type { PlatformRuntime, RuntimeInitOptions } from '../../core/platform.js';
import { Recorder } from '../../core/recorder.js';
import { resolveSampling } from '../../core/sampling-settings.js';
import { ChannelSink } from './channel-sink.js';
import { clock, timeOrigin } from './clock.js';
import { ENV_KEY, type SharedConfig } from './messages.js';
import { collectProcessInfo } from './process-info.js';
import { startRuntimeHealth, type RuntimeHealth } from './runtime-health.js';
import { WorkerSink } from './worker-sink.js';

export interface NodeInitOptions extends RuntimeInitOptions {
  flushIntervalMs?: number;
}

export const DEFAULT_URL = 'http://127.0.0.1:9000';
export const DEFAULT_MAX_BUFFER_BYTES = 64 * 1024 * 1024;
const MAX_BOUND = 2 ** 40;
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5000;
/** how long a worker thread's exit waits for its last hand-off */
const WORKER_EXIT_DEADLINE_MS = 5000;

/** this thread's recorder; events written before `init()` wait in its buffers (a full buffer is dropped and counted) */
export const recorder = new Recorder({ clock, thread: `t${threadId}`, spanIdBase: threadId * 2 ** 32 });

/** the main thread's GC pauses (runtime health), a `cpu` stream of its own named `gc`, never tail-sampled */
const gcRecorder = new Recorder({ clock, thread: 'gc', spanIdBase: 0, cpuEvents: 4096, logEvents: 16, metricEvents: 16 });
let health: RuntimeHealth | undefined;

let sink: WorkerSink | ChannelSink | undefined;
let timer: ReturnType<typeof setInterval> | undefined;
let exitFlushFailedAt = -1;
/** the deadline of flushes on SIGTERM, 'beforeExit', and of shutdown()/flush() without their own */
let shutdownTimeoutMs = DEFAULT_SHUTDOWN_TIMEOUT_MS;

export function configuredShutdownTimeoutMs(): number {
  return shutdownTimeoutMs;
}

/** `init({ shutdownTimeoutMs })`, else `SIRIUS_FLUSH_TIMEOUT_MS`, else 5 s; a clear error for anything else than a positive number */
function resolveShutdownTimeout(option: number | undefined): number {
  const env = process.env.SIRIUS_FLUSH_TIMEOUT_MS;
  const [value, source] = option !== undefined
    ? [option, 'shutdownTimeoutMs']
    : env !== undefined && env.trim() !== '' ? [Number(env), `SIRIUS_FLUSH_TIMEOUT_MS=${JSON.stringify(env)}`] : [DEFAULT_SHUTDOWN_TIMEOUT_MS, 'default'];
  if (!(typeof value === 'number' && value > 0 && value <= 2 ** 31 - 1)) {
    throw new RangeError(`sirius tracing: ${source} must be a positive number of milliseconds (at most 2^31-1), got ${String(option ?? env)}`);
  }
  return value;
}

export function initialized(): boolean {
  return sink !== undefined;
}

export function init(o: NodeInitOptions = {}): void {
  if (sink !== undefined) return;
  const maxBufferBytes = Math.min(MAX_BOUND, o.maxBufferBytes ?? DEFAULT_MAX_BUFFER_BYTES);
  if (!(maxBufferBytes > 0)) throw new RangeError(`maxBufferBytes must be a positive number of bytes, got ${o.maxBufferBytes}`);
  const url = o.url ?? process.env.SIRIUS_TELEMETRY_URL ?? DEFAULT_URL;
  if (!/^https?:\/\//.test(url)) throw new TypeError(`sirius tracing: url must be http(s)://…, got ${JSON.stringify(url)}`);
  const timeout = resolveShutdownTimeout(o.shutdownTimeoutMs);
  const sampling = resolveSampling(o.sampling);
  const apiKey = o.apiKey ?? process.env.SIRIUS_INGESTION_KEY ?? '';
  if (typeof apiKey !== 'string') throw new TypeError('sirius tracing: apiKey must be a string');
  const info = collectProcessInfo({ exe: o.exe, properties: o.properties });
  const budget = Budget.create(maxBufferBytes);
  const shared: SharedConfig = {
    channel: `sirius.tracing.${info.process_id}`,
    budget: budget.shared,
    maxBufferBytes,
    processTimeOrigin: timeOrigin(),
  };
  const ws = new WorkerSink(
    {
      process: info,
      logStreamId: randomUUID(),
      metricsStreamId: randomUUID(),
      url,
      apiKey,
      budget: budget.shared,
      maxBufferBytes,
      channel: shared.channel,
      processTimeOrigin: shared.processTimeOrigin,
      concurrency: 2,
      backoff: { baseMs: 50, capMs: 1000 },
      sampling,
    },
    budget,
  );
  shutdownTimeoutMs = timeout;
  setEnvironmentData(ENV_KEY, shared);
  attach(ws, o.threadName ?? (isMainThread ? 'main' : `worker-${threadId}`), 0, o.flushIntervalMs);
  if (o.runtimeHealth !== false && isMainThread) {
    ws.hello({ type: 'thread', thread: gcRecorder.thread, threadName: 'gc', threadId, originOffsetMs: 0, cpuStreamId: randomUUID(), sampled: false });
    gcRecorder.sink = ws;
    health = startRuntimeHealth(recorder, gcRecorder);
  }
  process.on('beforeExit', onBeforeExit);
  process.once('SIGTERM', onSigterm);
}

/** Worker threads started after the main thread's `init()` attach on their own. */
function autoAttach(): void {
  if (isMainThread) return;
  const shared = getEnvironmentData(ENV_KEY) as SharedConfig | undefined;
  if (shared === undefined) return;
  const cs = new ChannelSink(shared.channel, new Budget(shared.budget, shared.maxBufferBytes));
  attach(cs, `worker-${threadId}`, timeOrigin() - shared.processTimeOrigin, undefined);
  // a worker thread's 'beforeExit' fires when its loop empties: hand over what is left
  process.on('beforeExit', () => {
    recorder.flushAll();
    if (!cs.idle) void cs.settle(WORKER_EXIT_DEADLINE_MS);
  });
}

function attach(s: WorkerSink | ChannelSink, threadName: string, originOffsetMs: number, intervalMs: number | undefined): void {
  sink = s;
  s.hello({ type: 'thread', thread: recorder.thread, threadName, threadId, originOffsetMs, cpuStreamId: randomUUID() });
  recorder.sink = s;
  timer = setInterval(flushBuffers, intervalMs ?? 1000);
  timer.unref();
}

function flushBuffers(): void {
  recorder.flushAll();
  if (gcRecorder.sink !== undefined) gcRecorder.flushAll();
}

/** Hands this thread's buffers over and, on the thread that called init(), waits until the server stored everything. */
export async function flush(timeoutMs: number): Promise<boolean> {
  flushBuffers();
  const s = sink;
  if (s instanceof WorkerSink) return s.flush(timeoutMs);
  return s === undefined ? true : s.settle(timeoutMs);
}

export async function shutdown(timeoutMs: number): Promise<boolean> {
  const s = sink;
  if (s === undefined) return true;
  health?.stop();
  health = undefined;
  const ok = await flush(timeoutMs);
  if (timer !== undefined) clearInterval(timer);
  gcRecorder.sink = undefined;
  process.off('beforeExit', onBeforeExit);
  process.off('SIGTERM', onSigterm);
  recorder.sink = undefined;
  sink = undefined;
  if (s instanceof WorkerSink) await s.close();
  return ok;
}

function onBeforeExit(): void {
  const s = sink;
  if (!(s instanceof WorkerSink)) return;
  flushBuffers();
  // nothing new since a flush that already timed out: let the process exit
  if (s.unflushed === 0 || s.unflushed === exitFlushFailedAt) return;
  void s.flush(shutdownTimeoutMs).then((ok) => {
    exitFlushFailedAt = ok ? -1 : s.unflushed;
  });
}

function onSigterm(): void {
  void flush(shutdownTimeoutMs).finally(() => {
    if (process.listenerCount('SIGTERM') === 0) process.kill(process.pid, 'SIGTERM');
  });
}

autoAttach();

({ recorder, init, flush, shutdown, configuredShutdownTimeoutMs }) satisfies PlatformRuntime;
