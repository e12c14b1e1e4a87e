/**
 * Browser wiring, in place of platform/node/runtime.ts when the SDK is bundled for browsers: the page's
 * {@link Recorder}, a sender Web Worker started by `init()` (see page-sink.ts; the page sends by itself when
 * no worker can start), a 1 s hand-off timer, and the keepalive flush when the page is hidden or left.
 * Synthetic threads (Long Animation Frames) are recorders of their own, with their own cpu stream.
 */
import type { PlatformRuntime, RuntimeInitOptions } from '../../core/platform.js';
import { Recorder } from '../../core/recorder.js';
import { resolveSampling } from '../../core/sampling-settings.js';
import { clock, timeOrigin } from './clock.js';
import { KeepaliveFlusher } from './keepalive.js';
import type { BrowserSenderConfig } from './messages.js';
import { PageSink } from './page-sink.js';
import { collectBrowserInfo } from './process-info.js';
import { runSenderWorker, SENDER_WORKER_NAME } from './sender-worker.js';
import { startBrowserSignals } from './signals.js';
import { uuid } from './uuid.js';

export interface BrowserRuntimeOptions extends RuntimeInitOptions {
  flushIntervalMs?: number;
  /** keep the query string in the `page_path` property (default false: it often holds tokens) */
  includeQuery?: boolean;
}

/** the sender worker's code as a string, in the bundlers' build of the SDK (scripts/build-browser.mjs) */
declare const __SIRIUS_SENDER_WORKER__: string | undefined;

/** true in the sender worker started from the served SDK, which imports this very module */
const IN_SENDER_WORKER = typeof document === 'undefined' && (globalThis as { name?: unknown }).name === SENDER_WORKER_NAME;

export const DEFAULT_URL = 'http://127.0.0.1:9000';
export const DEFAULT_MAX_BUFFER_BYTES = 16 * 1024 * 1024;
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5000;

/** the page's main-thread recorder; events written before `init()` wait in its buffers */
export const recorder = IN_SENDER_WORKER
  ? new Recorder({ clock, thread: 'main', spanIdBase: 0, cpuEvents: 1, logEvents: 1, metricEvents: 1 }) // never used there
  : new Recorder({ clock, thread: 'main', spanIdBase: 0 });

interface Thread {
  recorder: Recorder;
  name: string;
  id: number;
  /** false for synthetic streams: sparse, reported after the fact, never tail-sampled */
  sampled: boolean;
}
const threads: Thread[] = [{ recorder, name: 'main', id: 0, sampled: true }];

let sink: PageSink | undefined;
let keepalive: KeepaliveFlusher | undefined;
let timer: ReturnType<typeof setInterval> | undefined;
let shutdownTimeoutMs = DEFAULT_SHUTDOWN_TIMEOUT_MS;
let stopSignals: (() => void) | undefined;

export function configuredShutdownTimeoutMs(): number {
  return shutdownTimeoutMs;
}

export function initialized(): boolean {
  return sink !== undefined;
}

/** where events go without `init({ url })`: the server the SDK was loaded from (`…/sdk/tracing.js`), else the default */
function defaultUrl(): string {
  return servedSdkUrl()?.origin ?? DEFAULT_URL;
}

/** this module's URL when it is the SDK as `sirius serve` serves it (`…/sdk/tracing.js`), else undefined */
function servedSdkUrl(): URL | undefined {
  try {
    const here = new URL(import.meta.url);
    if (/^https?:$/.test(here.protocol) && /\/sdk\/tracing(@[^/]*)?\.js$/.test(here.pathname)) return here;
  } catch {
    // not a URL (some bundlers)
  }
  return undefined;
}

/**
 * The sender worker's module source: the bundled copy, else one line importing the served SDK itself (the
 * worker then runs this module, which starts the loop when it finds itself there). Undefined when neither:
 * the SDK inlined into an app by a bundler without the copy, where importing the app's chunk in a worker
 * would run the app there.
 */
function workerSource(): string | undefined {
  if (typeof __SIRIUS_SENDER_WORKER__ === 'string') return __SIRIUS_SENDER_WORKER__;
  const served = servedSdkUrl();
  return served === undefined ? undefined : `import ${JSON.stringify(served.href)};`;
}

export function init(o: BrowserRuntimeOptions = {}): void {
  if (sink !== undefined) return;
  const maxBufferBytes = o.maxBufferBytes ?? DEFAULT_MAX_BUFFER_BYTES;
  if (!(maxBufferBytes > 0)) throw new RangeError(`maxBufferBytes must be a positive number of bytes, got ${o.maxBufferBytes}`);
  const url = o.url ?? defaultUrl();
  if (!/^https?:\/\//.test(url)) throw new TypeError(`sirius tracing: url must be http(s)://…, got ${JSON.stringify(url)}`);
  const timeout = o.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  if (!(timeout > 0 && timeout <= 2 ** 31 - 1)) throw new RangeError(`sirius tracing: shutdownTimeoutMs must be a positive number of milliseconds, got ${o.shutdownTimeoutMs}`);
  const apiKey = o.apiKey ?? '';
  if (typeof apiKey !== 'string') throw new TypeError('sirius tracing: apiKey must be a string');
  threads[0]!.name = o.threadName ?? 'main';
  const cfg: BrowserSenderConfig = {
    process: collectBrowserInfo({ exe: o.exe, properties: o.properties, includeQuery: o.includeQuery }),
    logStreamId: uuid(),
    metricsStreamId: uuid(),
    url,
    apiKey,
    maxBufferBytes,
    pageTimeOrigin: timeOrigin(),
    concurrency: 2,
    backoff: { baseMs: 50, capMs: 1000 },
    sampling: resolveSampling(o.sampling),
  };
  shutdownTimeoutMs = timeout;
  const s = new PageSink(cfg, workerSource());
  sink = s;
  keepalive = new KeepaliveFlusher(cfg, s);
  for (const t of threads) attach(t);
  timer = setInterval(flushAll, o.flushIntervalMs ?? 1000);
  if (typeof document !== 'undefined') document.addEventListener('visibilitychange', onVisibility);
  if (typeof addEventListener === 'function') addEventListener('pagehide', onPageHide);
  if (o.runtimeHealth !== false) stopSignals = startBrowserSignals({ recorder, syntheticThread });
}

function attach(t: Thread): void {
  sink!.hello({
    type: 'thread', thread: t.recorder.thread, threadName: t.name, threadId: t.id, originOffsetMs: 0, cpuStreamId: uuid(), sampled: t.sampled,
  });
  t.recorder.sink = sink;
}

function flushAll(): void {
  for (const t of threads) t.recorder.flushAll();
}

/**
 * A recorder for events that happened elsewhere than on the calling code's stack (Long Animation Frames,
 * reported after the fact): its own cpu stream named `name`, and a clock the caller sets before each event.
 */
export function syntheticThread(name: string): { recorder: Recorder; at(ms: number): void } {
  let t = 0;
  const id = threads.length;
  const rec = new Recorder({ clock: () => t, thread: `synthetic-${id}`, spanIdBase: id * 2 ** 32, cpuEvents: 4096, logEvents: 16, metricEvents: 16 });
  const thread: Thread = { recorder: rec, name, id: 1000 + id, sampled: false };
  threads.push(thread);
  if (sink !== undefined) attach(thread);
  return { recorder: rec, at: (ms) => { t = ms; } };
}

/** Hands the buffers over and waits until the server stored everything, at most `timeoutMs`. */
export async function flush(timeoutMs: number): Promise<boolean> {
  flushAll();
  return sink === undefined ? true : sink.flush(timeoutMs);
}

export async function shutdown(timeoutMs: number): Promise<boolean> {
  const s = sink;
  if (s === undefined) return true;
  const ok = await flush(timeoutMs);
  if (timer !== undefined) clearInterval(timer);
  stopSignals?.();
  stopSignals = undefined;
  if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', onVisibility);
  if (typeof removeEventListener === 'function') removeEventListener('pagehide', onPageHide);
  for (const t of threads) t.recorder.sink = undefined;
  sink = undefined;
  s.close();
  return ok;
}

/** The page may not run again: send what the main thread holds itself, in keepalive requests. */
export function flushForUnload(): ReturnType<KeepaliveFlusher['flush']> | undefined {
  if (sink === undefined || keepalive === undefined) return undefined;
  const r = keepalive.flush(threads.map((t) => t.recorder));
  void sink.flush(shutdownTimeoutMs);
  return r;
}

/** how the page sends, and what it holds and dropped (diagnostics, tests) */
export function senderState(): { mode: string; fallbackReason: string; boundBytes: number; droppedEvents: number } | undefined {
  return sink === undefined ? undefined : { mode: sink.mode, fallbackReason: sink.fallbackReason, boundBytes: sink.boundBytes, droppedEvents: sink.droppedEvents };
}

function onVisibility(): void {
  if (document.visibilityState === 'hidden') flushForUnload();
}

function onPageHide(): void {
  flushForUnload();
}

// the same surface as platform/node/runtime.ts (index.ts is shared)
const _surface: PlatformRuntime = { recorder, init, flush, shutdown, configuredShutdownTimeoutMs };
void _surface;

if (IN_SENDER_WORKER) runSenderWorker();
