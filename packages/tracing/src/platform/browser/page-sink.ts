/**
 * The page's sink: hands full buffers to the sender Web Worker (transferred, handed back for reuse), or, when
 * no worker can start (a Content-Security-Policy without `worker-src blob:`, or the SDK loaded from source
 * without its bundled worker), runs the sender on the page in a timer loop, a few batches per turn.
 *
 * The memory bound is enforced here: bytes of batches handed to the worker and not yet given back, plus the
 * bytes the worker reports it holds (compressed blocks not yet stored). Past `maxBufferBytes` a batch is
 * refused and the recorder drops it (counted, reported by the worker as `sirius.dropped_events`).
 *
 * It also remembers what the keepalive flush needs to encode on its own: every descriptor each thread
 * handed over, each thread's cpu stream, and which records the server has stored.
 */
import type { Batch, Descriptor, ThreadHello } from '../../core/records.js';
import type { BatchSink } from '../../core/sink.js';
import type { BrowserSenderConfig, FromWorker, ToWorker } from './messages.js';
import { localBudget, startSender, type SenderHost } from './sender-host.js';
import { SENDER_WORKER_NAME } from './sender-worker.js';

/** milliseconds of sender work per turn of the page's loop when sending on the page */
const TURN_MS = 4;
/** how long the worker gets to say it started before the page sends by itself */
const WORKER_START_MS = 5000;

export type SinkMode = 'starting' | 'worker' | 'page';

export class PageSink implements BatchSink {
  mode: SinkMode = 'starting';
  /** why the worker was not used (mode 'page') */
  fallbackReason = '';
  readonly descriptors = new Map<string, Descriptor[]>();
  readonly threads = new Map<string, ThreadHello>();
  readonly registered = { process: false, streams: new Set<string>() };
  private worker: Worker | undefined;
  private host: SenderHost | undefined;
  /** batches and hellos waiting for the worker to start, or for the page's sender loop */
  private waiting: ToWorker[] = [];
  private loop: ReturnType<typeof setTimeout> | undefined;
  private readonly free: Float64Array[] = [];
  /** lengths of the recorders' own buffers: only those are worth keeping when the worker hands them back */
  private readonly poolable = new Set<number>();
  private readonly flushes = new Map<number, () => void>();
  private nextFlush = 1;
  /** bytes handed to the worker and not given back yet */
  private lent = 0;
  /** bytes the worker holds (its last report) */
  private held = 0;
  /** events dropped on this side */
  droppedEvents = 0;
  closed = false;
  private startTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly cfg: BrowserSenderConfig, workerSource: string | undefined) {
    if (workerSource === undefined) {
      this.sendOnPage('no worker code: the SDK was bundled into the app without its worker copy (use the `browser` export of @sirius/tracing)');
      return;
    }
    try {
      const url = URL.createObjectURL(new Blob([workerSource], { type: 'text/javascript' }));
      const w = new Worker(url, { type: 'module', name: SENDER_WORKER_NAME });
      // a module worker may fetch its source after the constructor returns: the URL lives a while
      setTimeout(() => URL.revokeObjectURL(url), WORKER_START_MS);
      this.worker = w;
      w.onmessage = (e: MessageEvent<FromWorker>) => this.onWorkerMessage(e.data);
      w.onerror = (e) => {
        if (this.mode === 'starting') {
          e.preventDefault();
          this.sendOnPage(`the sender worker failed to start (${e.message || 'blocked? a CSP needs worker-src blob:'})`);
        }
      };
      w.postMessage({ type: 'start', config: this.cfg } satisfies ToWorker);
      this.startTimer = setTimeout(() => {
        if (this.mode === 'starting') this.sendOnPage(`the sender worker did not start within ${WORKER_START_MS / 1000} s`);
      }, WORKER_START_MS);
    } catch (e) {
      this.sendOnPage(`no sender worker (${(e as Error).message}); a CSP needs worker-src blob:`);
    }
  }

  hello(h: ThreadHello): void {
    this.threads.set(h.thread, h);
    if (this.mode === 'worker') this.worker!.postMessage(h satisfies ToWorker);
    else if (this.mode === 'page') this.host!.sender.hello(h);
    else this.waiting.push(h);
  }

  submit(batch: Batch): boolean {
    if (this.closed) return false;
    const known = this.descriptors.get(batch.thread) ?? [];
    for (const d of batch.descriptors) known[d.id] = d;
    this.descriptors.set(batch.thread, known);
    if (this.mode === 'page') {
      if (!this.host!.budget.tryCharge(batch.bytes)) return false;
      this.waiting.push({ ...batch, f64: batch.f64.slice(0, batch.slots) });
      this.schedule();
      return true;
    }
    if (this.lent + this.held + batch.bytes > this.cfg.maxBufferBytes) return false;
    this.lent += batch.bytes;
    if (this.mode === 'worker') {
      this.poolable.add(batch.f64.length);
      this.worker!.postMessage(batch satisfies ToWorker, [batch.f64.buffer as ArrayBuffer]);
    } else {
      // not started yet: keep a copy (the recorder goes on writing into its buffer)
      this.waiting.push({ ...batch, f64: batch.f64.slice(0, batch.slots) });
    }
    return true;
  }

  reuse(slots: number): Float64Array | undefined {
    const i = this.free.findIndex((f) => f.length === slots);
    return i < 0 ? undefined : this.free.splice(i, 1)[0];
  }

  countDropped(events: number): void {
    if (events <= 0) return;
    this.droppedEvents += events;
    if (this.mode === 'worker') this.worker!.postMessage({ type: 'dropped', events } satisfies ToWorker);
    else if (this.mode === 'page') this.host!.budget.countDropped(events);
    else this.pendingDrops += events;
  }
  private pendingDrops = 0;

  /** bytes counted against the memory bound right now */
  get boundBytes(): number {
    return this.mode === 'page' ? this.host!.budget.inflight : this.lent + this.held;
  }

  /** Resolves true once everything handed over so far is stored, false if `timeoutMs` passes first. */
  flush(timeoutMs: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      if (this.mode === 'page') {
        this.drainPage(Infinity);
        void this.host!.sender.flush().then(done);
        return;
      }
      const id = this.nextFlush++;
      this.flushes.set(id, done);
      if (this.mode === 'worker') this.worker!.postMessage({ type: 'flush', id } satisfies ToWorker);
      else this.waiting.push({ type: 'flush', id }); // forwarded once the worker starts
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.loop !== undefined) clearTimeout(this.loop);
    if (this.startTimer !== undefined) clearTimeout(this.startTimer);
    this.worker?.postMessage({ type: 'stop' } satisfies ToWorker);
    this.host?.sender.stop();
  }

  private onWorkerMessage(m: FromWorker): void {
    switch (m.type) {
      case 'ready': {
        if (this.mode !== 'starting') return;
        clearTimeout(this.startTimer);
        this.mode = 'worker';
        const w = this.worker!;
        for (const x of this.waiting) {
          if (x.type === 'batch') w.postMessage(x, [x.f64.buffer as ArrayBuffer]);
          else w.postMessage(x);
        }
        this.waiting = [];
        if (this.pendingDrops > 0) w.postMessage({ type: 'dropped', events: this.pendingDrops } satisfies ToWorker);
        this.pendingDrops = 0;
        break;
      }
      case 'reuse':
        this.lent -= m.bytes;
        this.held = m.held;
        if (this.free.length < 8 && this.poolable.has(m.f64.length)) this.free.push(m.f64); // not the early copies
        break;
      case 'held':
        this.held = m.held;
        break;
      case 'flushed': {
        const done = this.flushes.get(m.id);
        this.flushes.delete(m.id);
        done?.();
        break;
      }
      case 'registered':
        if (m.what === 'process') this.registered.process = true;
        else if (m.streamId !== undefined) this.registered.streams.add(m.streamId);
        break;
    }
  }

  /** Sends from the page: the sender runs here, a few milliseconds per turn of the event loop. */
  private sendOnPage(reason: string): void {
    if (this.mode === 'page') return;
    this.worker?.terminate();
    this.worker = undefined;
    this.fallbackReason = reason;
    console.warn(`sirius tracing: sending from the page's main thread: ${reason}`);
    const budget = localBudget(this.cfg.maxBufferBytes);
    budget.charge(this.lent); // the copies made while the worker was starting
    this.lent = 0;
    this.host = startSender(this.cfg, (m) => this.onWorkerMessage(m), budget);
    this.mode = 'page';
    budget.countDropped(this.pendingDrops);
    this.pendingDrops = 0;
    const early = this.waiting;
    this.waiting = [];
    for (const x of early) {
      if (x.type === 'thread') this.host.sender.hello(x);
      else if (x.type === 'batch') this.waiting.push(x);
      else if (x.type === 'flush') {
        // the batches queued before this flush go first: it answers for everything handed over before it
        this.drainPage(Infinity);
        const id = x.id;
        void this.host.sender.flush().then(() => this.onWorkerMessage({ type: 'flushed', id }));
      }
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.loop !== undefined || this.waiting.length === 0) return;
    this.loop = setTimeout(() => {
      this.loop = undefined;
      this.drainPage(TURN_MS);
      this.schedule();
    }, 0);
  }

  private drainPage(budgetMs: number): void {
    const until = performance.now() + budgetMs;
    while (this.waiting.length > 0) {
      this.host!.sender.batch(this.waiting.shift() as Batch);
      if (performance.now() > until) break;
    }
  }
}
