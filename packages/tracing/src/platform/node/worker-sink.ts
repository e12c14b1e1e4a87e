/**
 * The main thread's sink: starts the sender worker and transfers full buffers to it (no copy). The worker
 * is unref'd, so it never keeps a healthy process alive; `flush` refs it only while waiting for an answer.
 */
import type { Worker } from 'node:worker_threads';
import { startWorker } from './ts-worker.js';
import type { Budget } from '../../core/budget.js';
import type { Batch, ThreadHello } from '../../core/records.js';
import type { BatchSink } from '../../core/sink.js';
import type { FromSender, SenderConfig, ToSender } from './messages.js';

// the worker module sits next to this one: `.ts` when run from source (tsx), `.js` once built into dist/
const SELF_EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

export class WorkerSink implements BatchSink {
  private readonly worker: Worker;
  private readonly free: Float64Array[] = [];
  private readonly waiting = new Map<number, () => void>();
  private nextFlush = 1;
  private refs = 0;
  /** batches posted since the last completed flush */
  unflushed = 0;
  closed = false;

  constructor(cfg: SenderConfig, private readonly budget: Budget) {
    this.worker = startWorker(new URL(`./sender-worker${SELF_EXT}`, import.meta.url), { workerData: cfg });
    this.worker.on('message', (m: FromSender) => {
      if (m.type === 'reuse') {
        this.budget.tookBack();
        if (this.free.length < 8) this.free.push(m.f64);
      } else {
        const done = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        done?.();
      }
    });
    this.worker.on('error', (e) => process.stderr.write(`sirius tracing: sender worker failed: ${e.message}\n`));
    // after the listeners: attaching a 'message' listener refs the worker's port again
    this.worker.unref();
  }

  hello(h: ThreadHello): void {
    this.post(h);
  }

  submit(batch: Batch): boolean {
    if (this.closed || !this.budget.tryCharge(batch.bytes)) return false;
    this.post(batch, [batch.f64.buffer as ArrayBuffer]);
    this.unflushed++;
    return true;
  }

  reuse(slots: number): Float64Array | undefined {
    const i = this.free.findIndex((f) => f.length === slots);
    return i < 0 ? undefined : this.free.splice(i, 1)[0];
  }

  countDropped(events: number): void {
    this.budget.countDropped(events);
  }

  /** Resolves true once everything posted so far is stored, false if `timeoutMs` passes first. */
  flush(timeoutMs: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    const id = this.nextFlush++;
    const covered = this.unflushed;
    this.ref(1);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (ok: boolean): void => {
        clearTimeout(timer);
        if (!this.waiting.delete(id) && ok === false) return;
        this.ref(-1);
        if (ok) this.unflushed -= Math.min(covered, this.unflushed);
        resolve(ok);
      };
      this.waiting.set(id, () => finish(true));
      this.post({ type: 'flush', id });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.worker.terminate();
  }

  private ref(delta: number): void {
    this.refs += delta;
    if (this.refs > 0) this.worker.ref();
    else this.worker.unref();
  }

  private post(m: ToSender, transfer?: ArrayBuffer[]): void {
    this.worker.postMessage(m, transfer);
  }
}
