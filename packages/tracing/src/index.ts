/**
 * @sirius/tracing — logs, metrics and spans from a Node process to a Sirius server, at a cost close to one
 * clock read per event on the calling thread. Events go into preallocated per-thread buffers; a worker
 * thread encodes, compresses (LZ4) and uploads them with retries. Memory is bounded by `maxBufferBytes`:
 * past it the newest buffer is dropped, its events are counted, and the count is sent as the
 * `sirius.dropped_events` metric (unit `count`, one value per report, to be summed) once the server answers.
 *
 * @example
 * import { init, info, span, shutdown } from '@sirius/tracing';
 * init({ properties: { version: '1.2.3' } });   // SIRIUS_TELEMETRY_URL or http://127.0.0.1:9000
 * info('starting', { target: 'app/boot' });
 * span('load', () => loadEverything());
 * await shutdown();
 *
 * Worker threads started after `init()` are attached automatically (each gets its own `cpu` stream).
 * Everything not exported here is internal.
 */
import type { Properties } from '@sirius/transit';
import { FRAME_SPAN, FRAME_TARGET, FRAME_TIME_METRIC, FRAME_TIME_UNIT, KEEP_TRACE_TARGET } from './core/frames.js';
import { BEGIN_ASYNC, BEGIN_THREAD, END_ASYNC, END_THREAD } from './core/records.js';
import type { SamplingOptions } from './core/sampling-settings.js';
import { currentSpan, withSpan } from './platform/node/async-context.js';
import * as runtime from './platform/node/runtime.js';

export type { Properties } from '@sirius/transit';
export type { SamplingOptions, SamplingSettings } from './core/sampling-settings.js';
export type { FrameInfo, SampledBlock, SamplingContext, SamplingMark, SamplingPolicy } from './core/sampling-policy.js';
export { defaultSamplingPolicy } from './core/sampling-policy.js';

export interface InitOptions {
  /** ingestion server; default `SIRIUS_TELEMETRY_URL`, then `http://127.0.0.1:9000` */
  url?: string;
  /** process name shown in queries; default the script's file name */
  exe?: string;
  /** process properties */
  properties?: Properties;
  /** bound on memory held for queued buffers and unsent blocks (default 64 MiB) */
  maxBufferBytes?: number;
  /** name of the calling thread's cpu stream (default `main`) */
  threadName?: string;
  /**
   * API key for servers started with `SIRIUS_INGESTION_KEYS`, sent as `Authorization: Bearer <key>`;
   * default `SIRIUS_INGESTION_KEY`. A server that refuses it is named once on stderr, and data is dropped (counted).
   */
  apiKey?: string;
  /**
   * Deadline of the flush on SIGTERM and when the event loop runs dry, and the default of `shutdown()` and
   * `flush()`; default `SIRIUS_FLUSH_TIMEOUT_MS`, then 5000. Within it, data goes in priority order: the
   * process, its streams, logs, metrics, then spans.
   */
  shutdownTimeoutMs?: number;
  /**
   * Tail sampling of cpu streams, on by default and engaged by the first frame (`beginFrame`/`frame`): cpu
   * blocks are cut at frame boundaries and wait `windowMs` for the policy, which by default keeps slow frames
   * and their neighbours, the frames around error/fatal logs and `keepTrace` calls, and 1 % of the rest.
   * Logs and metrics are always sent. `false` sends every block.
   */
  sampling?: SamplingOptions | false;
  /**
   * Node runtime health every second (default true): event-loop delay and utilization, heap, RSS and CPU as
   * metrics with target `sirius.runtime`, and GC pauses as spans on a `cpu` stream of their own (`gc`).
   */
  runtimeHealth?: boolean;
}

export interface LogOptions {
  /** where the event comes from, e.g. `game/physics`; default `app` */
  target?: string;
  properties?: Properties;
}

export interface SpanOptions {
  target?: string;
  filename?: string;
  line?: number;
}

/** A started async span; call `end()` once. */
export interface AsyncSpanHandle {
  readonly spanId: number;
  end(): void;
}

const rec = runtime.recorder;
const intern = rec.interner;
const DEFAULT_TARGET = 'app';
const defaultLogTarget = intern.log(DEFAULT_TARGET);
const frameDesc = intern.span(FRAME_SPAN, FRAME_TARGET, '', 0);
const frameTimeDesc = intern.metric(FRAME_TIME_METRIC, FRAME_TIME_UNIT, FRAME_TARGET);
const keepTraceTarget = intern.log(KEEP_TRACE_TARGET);
/** clock reading at the open frame's begin on this thread, NaN when none is open */
let frameBegin = NaN;

/**
 * Starts sending. Call once, early, on the main thread (a second call does nothing). Events recorded before
 * are kept (up to one buffer per stream).
 *
 * @example init({ url: 'http://127.0.0.1:9000', properties: { build: 'abc123' } });
 */
export function init(options: InitOptions = {}): void {
  runtime.init(options);
}

/**
 * Hands over everything recorded and waits until the server has stored it, at most `timeoutMs`
 * (default `shutdownTimeoutMs`, 5 s); then stops the sender. Resolves false if the deadline passed first.
 *
 * @example process.on('SIGINT', async () => { await shutdown(); process.exit(0); });
 */
export function shutdown(options: { timeoutMs?: number } = {}): Promise<boolean> {
  return runtime.shutdown(options.timeoutMs ?? runtime.configuredShutdownTimeoutMs());
}

/**
 * Waits (at most `timeoutMs`, default `shutdownTimeoutMs`, 5 s) until everything recorded so far on this thread is stored.
 * In a worker thread it only hands the buffers over.
 */
export function flush(options: { timeoutMs?: number } = {}): Promise<boolean> {
  return runtime.flush(options.timeoutMs ?? runtime.configuredShutdownTimeoutMs());
}

function logTarget(o: LogOptions | undefined): number {
  return o === undefined || o.target === undefined ? defaultLogTarget : intern.log(o.target);
}

/** Logs at level 1 (fatal). @example fatal('out of memory', { target: 'alloc' }); */
export function fatal(message: string, options?: LogOptions): void {
  rec.logEvent(1, logTarget(options), message, options?.properties ?? null);
}
/** Logs at level 2 (error). */
export function error(message: string, options?: LogOptions): void {
  rec.logEvent(2, logTarget(options), message, options?.properties ?? null);
}
/** Logs at level 3 (warn). */
export function warn(message: string, options?: LogOptions): void {
  rec.logEvent(3, logTarget(options), message, options?.properties ?? null);
}
/** Logs at level 4 (info). @example info(`loaded ${n} items`, { target: 'app/load' }); */
export function info(message: string, options?: LogOptions): void {
  rec.logEvent(4, logTarget(options), message, options?.properties ?? null);
}
/** Logs at level 5 (debug). */
export function debug(message: string, options?: LogOptions): void {
  rec.logEvent(5, logTarget(options), message, options?.properties ?? null);
}
/** Logs at level 6 (trace). */
export function trace(message: string, options?: LogOptions): void {
  rec.logEvent(6, logTarget(options), message, options?.properties ?? null);
}

/**
 * Records an integer measure. Numbers must be safe integers (RangeError otherwise); use a bigint beyond 2^53.
 * @example imetric('entities', 'count', world.size);
 */
export function imetric(name: string, unit: string, value: number | bigint, options?: LogOptions): void {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new RangeError(`imetric ${name}: ${value} is not a safe integer`);
  }
  const target = options?.target ?? DEFAULT_TARGET;
  rec.metric(intern.metric(name, unit, target), value, false, options?.properties ?? null);
}

/** Records a floating-point measure. @example fmetric('frame_time', 'ms', dt); */
export function fmetric(name: string, unit: string, value: number, options?: LogOptions): void {
  const target = options?.target ?? DEFAULT_TARGET;
  rec.metric(intern.metric(name, unit, target), value, true, options?.properties ?? null);
}

function spanDesc(name: string, o: SpanOptions | undefined): number {
  return o === undefined
    ? intern.span(name, DEFAULT_TARGET, '', 0)
    : intern.span(name, o.target ?? DEFAULT_TARGET, o.filename ?? '', o.line ?? 0);
}

/**
 * Runs `fn` inside a thread span (begin and end events on this thread's cpu stream); returns its result.
 * @example const out = span('physics', () => world.step(dt));
 */
export function span<T>(name: string, fn: () => T, options?: SpanOptions): T {
  const d = spanDesc(name, options);
  rec.threadSpan(BEGIN_THREAD, d);
  try {
    return fn();
  } finally {
    rec.threadSpan(END_THREAD, d);
  }
}

/** Opens a thread span for code that cannot be wrapped; close it with `endSpan(name)` (same options) on the same thread. */
export function beginSpan(name: string, options?: SpanOptions): void {
  rec.threadSpan(BEGIN_THREAD, spanDesc(name, options));
}

/** Closes the innermost span opened by `beginSpan(name)`. */
export function endSpan(name: string, options?: SpanOptions): void {
  rec.threadSpan(END_THREAD, spanDesc(name, options));
}

/**
 * Runs `fn` inside an async span: begin/end events with a span id and the id of the async span that was
 * current when it started (tracked across awaits with AsyncLocalStorage).
 * @example await spanAsync('fetch-user', () => db.user(id));
 */
export async function spanAsync<T>(name: string, fn: () => Promise<T> | T, options?: SpanOptions): Promise<T> {
  const d = spanDesc(name, options);
  const parent = currentSpan();
  const id = rec.newSpanId();
  rec.asyncSpan(BEGIN_ASYNC, d, id, parent);
  try {
    return await withSpan(id, fn);
  } finally {
    rec.asyncSpan(END_ASYNC, d, id, parent);
  }
}

/**
 * Starts an async span for code that cannot be wrapped (callbacks, events). Its parent is the current async
 * span; it does not become the parent of work started afterwards (use `spanAsync` for that).
 * @example const s = beginAsyncSpan('request'); res.on('finish', () => s.end());
 */
export function beginAsyncSpan(name: string, options?: SpanOptions): AsyncSpanHandle {
  const d = spanDesc(name, options);
  const parent = currentSpan();
  const id = rec.newSpanId();
  rec.asyncSpan(BEGIN_ASYNC, d, id, parent);
  let open = true;
  return {
    spanId: id,
    end() {
      if (!open) return;
      open = false;
      rec.asyncSpan(END_ASYNC, d, id, parent);
    },
  };
}

/**
 * Begins a frame on this thread: a thread span named `frame` (target `sirius.frame`). A frame still open is
 * ended first, so a loop may call only `beginFrame()` at the top of each turn.
 * @example for (;;) { beginFrame(); update(); render(); endFrame(); }
 */
export function beginFrame(): void {
  if (frameBegin === frameBegin) endFrame();
  frameBegin = rec.threadSpanTimed(BEGIN_THREAD, frameDesc);
}

/**
 * Ends the frame begun by `beginFrame()` and records its duration as the measure `frame_time` (ms, target
 * `sirius.frame`), reusing the end's clock reading. Without an open frame it does nothing.
 */
export function endFrame(): void {
  const begin = frameBegin;
  if (begin !== begin) return;
  frameBegin = NaN;
  const t = rec.threadSpanTimed(END_THREAD, frameDesc);
  rec.floatMetricAt(frameTimeDesc, t - begin, t);
}

/**
 * Runs `fn` as one frame (`beginFrame()` … `endFrame()`); returns its result.
 * @example setInterval(() => frame(() => world.step(1 / 60)), 16);
 */
export function frame<T>(fn: () => T): T {
  beginFrame();
  try {
    return fn();
  } finally {
    endFrame();
  }
}

/**
 * Asks the tail sampler to keep the trace around now (the current frame and its neighbours), whatever the
 * frame times. The reason is recorded as a log line (level 4, target `sirius.keep_trace`) to find it by.
 * @example if (player.fellThroughFloor) keepTrace('player fell through the floor');
 */
export function keepTrace(reason: string): void {
  rec.logEvent(4, keepTraceTarget, reason, null);
}

/**
 * Starts a worker thread on a module that may be TypeScript source run through tsx (Node 20 does not pass
 * `--import tsx` to workers). Workers started after `init()` that use this library are attached automatically.
 * @example const w = startWorker(new URL('./physics.ts', import.meta.url), { workerData: { seed: 1 } });
 */
export { startWorker } from './platform/node/ts-worker.js';
