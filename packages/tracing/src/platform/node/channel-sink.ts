/**
 * The sink of a worker thread that uses the library: posts copies of its batches to the sender over a
 * BroadcastChannel. Until the sender listens (it starts asynchronously) batches wait here, charged to the
 * budget. A channel object is opened per post and closed right away, so this thread never receives (and
 * deserializes) other threads' batches.
 */
import { BroadcastChannel } from 'node:worker_threads';
import type { Budget } from '../../core/budget.js';
import type { Batch, ThreadHello } from '../../core/records.js';
import type { BatchSink } from '../../core/sink.js';

export class ChannelSink implements BatchSink {
  private readonly waiting: (Batch | ThreadHello)[] = [];

  constructor(private readonly channel: string, private readonly budget: Budget) {}

  hello(h: ThreadHello): void {
    this.waiting.push(h);
    this.drain();
  }

  submit(batch: Batch): boolean {
    if (!this.budget.tryCharge(batch.bytes)) return false;
    this.waiting.push({ ...batch, f64: batch.f64.slice(0, batch.slots) });
    this.drain();
    return true;
  }

  reuse(): undefined {
    return undefined;
  }

  countDropped(events: number): void {
    this.budget.countDropped(events);
  }

  /** true when nothing waits for the sender */
  get idle(): boolean {
    return this.waiting.length === 0;
  }

  /** Posts what waits, if the sender listens. */
  drain(): void {
    if (this.waiting.length === 0 || !this.budget.ready) return;
    const ch = new BroadcastChannel(this.channel);
    for (const m of this.waiting) {
      ch.postMessage(m);
      this.budget.countPosted();
    }
    ch.close();
    this.waiting.length = 0;
  }

  /** Resolves once everything is posted, or false after `timeoutMs` (polls: the sender has no way to call back). */
  async settle(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.drain();
      if (this.idle) return true;
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}
