/**
 * Sends process, stream and block records by priority, a few blocks at a time, retrying transient failures
 * forever with backoff (the memory bound, not a retry limit, decides when data is given up). Process and
 * stream records are barriers: nothing after them starts before they are stored, and they go before blocks.
 * Blocks go first in first out while nobody waits, so a producer that outpaces the network cannot starve one
 * kind (spans behind an endless backlog of metrics). While a flush waits (`drained()`: on SIGTERM, against a
 * deadline) they go by {@link Job.priority} instead (logs, metrics, then spans, oldest first within each), so
 * when time is short the most useful data goes first. A 404 on a block means the server does not know its
 * stream (for instance a fresh database): the stream is registered again once.
 *
 * A 429 or 503 with `Retry-After` (a rate limit, a database briefly away) pauses all sending at least that long,
 * capped at `maxRetryAfterMs` (default 60 s) so a wrong header cannot stall a program; the job keeps its place
 * and nothing is lost while the memory bound holds.
 *
 * A record the server refuses for what it holds (400, 409, 413, 422) would be refused forever: it is dropped,
 * its events counted as dropped, the reason printed once, and the rest keeps flowing. Data that depends on a
 * refused record goes the same way without being sent: every block of a refused stream, everything of a
 * refused process. Other 4xx drop only the record itself.
 *
 * 401/403 mean the server wants an API key it did not get (none sent, or one it does not know). That will not
 * change by itself, so one clear message says so (naming the server, never the key), the record is dropped,
 * and for `refusedPauseMs` (default 1 min) everything else is dropped unsent and counted; then one record is
 * tried again, in case the server's keys changed. No request storm, no memory held for a server that refuses.
 */
import { Backoff, type BackoffOptions } from './backoff.js';
import type { Budget } from './budget.js';
import type { Transport } from './transport.js';

/** answers meaning "never, as it is": retrying the same bytes cannot succeed */
const REFUSED = new Set([400, 409, 413, 422]);
/** answers meaning "not with this key" */
const UNAUTHORIZED = new Set([401, 403]);

export interface Job {
  kind: 'process' | 'stream' | 'block';
  path: string;
  body: Uint8Array | string;
  contentType: string;
  /** bytes charged to the budget, released when the job ends */
  bytes: number;
  /** events lost if this job is given up */
  events: number;
  streamId?: string;
  reregistered?: boolean;
  seq?: number;
  /** lower goes first; default: process 0, stream 1, block {@link PRIORITY.cpu} */
  priority?: number;
}

/** Send order: the process, then its streams, then blocks of logs, metrics, and spans. */
export const PRIORITY = { process: 0, stream: 1, log: 2, metrics: 3, cpu: 4 } as const;

function urgentPriorityOf(job: Job): number {
  return job.priority ?? (job.kind === 'process' ? PRIORITY.process : job.kind === 'stream' ? PRIORITY.stream : PRIORITY.cpu);
}

/** the order while nobody waits: barriers first, then every block alike (first in first out) */
function steadyPriorityOf(job: Job): number {
  return job.kind === 'block' ? PRIORITY.log : urgentPriorityOf(job);
}

export interface UploaderOptions {
  transport: Transport;
  budget: Budget;
  concurrency?: number;
  backoff?: BackoffOptions;
  /** jobs that register `streamId` (and its process) again */
  register(streamId: string): Job[];
  /** after each stored block: a chance to report drops */
  onBlockStored?(): void;
  warn?(message: string): void;
  /** longest pause a server's `Retry-After` can impose (default 60 s) */
  maxRetryAfterMs?: number;
  /** after a 401/403, how long to drop records unsent before trying one again (default 60 s) */
  refusedPauseMs?: number;
  now?(): number;
}

export class Uploader {
  private readonly queue: Job[] = [];
  private readonly outstanding = new Set<number>();
  private readonly waiters: { seq: number; resolve: () => void }[] = [];
  private inFlight = 0;
  private barrierInFlight = false;
  private nextSeq = 1;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** when (ms, `now()`) the running retry timer fires */
  private retryAt = -Infinity;
  private readonly backoff: Backoff;
  private readonly concurrency: number;
  private warned = new Set<string>();
  private processRefused = false;
  private readonly refusedStreams = new Set<string>();
  /** until when (ms, `now()`) records are dropped unsent after the server refused the key */
  private keyRefusedUntil = -Infinity;
  private readonly now: () => number;
  stored = 0;
  /** records given up without being stored (refused, or dependent on a refused one) */
  dropped = 0;
  stopped = false;

  constructor(private readonly o: UploaderOptions) {
    this.backoff = new Backoff(o.backoff);
    this.concurrency = o.concurrency ?? 2;
    this.now = o.now ?? Date.now;
  }

  enqueue(job: Job): number {
    job.seq = this.nextSeq++;
    this.outstanding.add(job.seq);
    this.insert(job, false);
    this.pump();
    return job.seq;
  }

  /** Places `job` after the queued jobs of its priority (`front`: before them), so that higher priorities go first. */
  private insert(job: Job, front: boolean): void {
    const priorityOf = this.waiters.length > 0 ? urgentPriorityOf : steadyPriorityOf;
    const p = priorityOf(job);
    const q = this.queue;
    let lo = 0;
    let hi = q.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const pm = priorityOf(q[mid]!);
      if (pm < p || (!front && pm === p)) lo = mid + 1;
      else hi = mid;
    }
    q.splice(lo, 0, job);
  }

  /** Resolves once every job enqueued so far has been stored or given up. */
  drained(): Promise<void> {
    const seq = this.nextSeq - 1;
    if (this.doneThrough(seq)) return Promise.resolve();
    // the first waiter turns the queue into send-by-priority order (stable: oldest first within a priority)
    if (this.waiters.length === 0) this.queue.sort((a, b) => urgentPriorityOf(a) - urgentPriorityOf(b) || a.seq! - b.seq!);
    return new Promise((resolve) => this.waiters.push({ seq, resolve }));
  }

  get pending(): number {
    return this.outstanding.size;
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
  }

  private doneThrough(seq: number): boolean {
    for (const s of this.outstanding) if (s <= seq) return false;
    return true;
  }

  private pump(): void {
    while (!this.stopped && this.retryTimer === undefined && this.queue.length > 0 && !this.barrierInFlight) {
      const head = this.queue[0]!;
      if (this.doomed(head)) {
        this.queue.shift();
        this.drop(head);
        continue;
      }
      const barrier = head.kind !== 'block';
      if (barrier ? this.inFlight > 0 : this.inFlight >= this.concurrency) return;
      this.queue.shift();
      this.inFlight++;
      if (barrier) this.barrierInFlight = true;
      void this.run(head);
    }
  }

  private async run(job: Job): Promise<void> {
    const r = await this.o.transport.post(job.path, job.body, job.contentType);
    this.inFlight--;
    if (job.kind !== 'block') this.barrierInFlight = false;
    if (r.ok) {
      this.backoff.reset();
      this.finish(job);
      if (job.kind === 'block') {
        this.stored++;
        this.o.onBlockStored?.();
      }
    } else if (r.status === 404 && job.kind === 'block' && !job.reregistered && job.streamId !== undefined) {
      job.reregistered = true;
      const again = this.o.register(job.streamId);
      for (const j of again) {
        j.seq = this.nextSeq++;
        this.outstanding.add(j.seq);
      }
      this.insert(job, true);
      for (let i = again.length - 1; i >= 0; i--) this.insert(again[i]!, true);
    } else if (UNAUTHORIZED.has(r.status)) {
      const pauseMs = this.o.refusedPauseMs ?? 60_000;
      this.keyRefusedUntil = this.now() + pauseMs;
      const server = this.o.transport.url ?? 'the server';
      const why = this.o.transport.keyed
        ? 'refused the API key (unknown to it, or revoked)'
        : 'requires an API key and none was set (init({ apiKey }) or SIRIUS_INGESTION_KEY)';
      this.warnOnce(
        'key',
        `sirius tracing: ${server} ${why}: ${r.status} ${r.message}; telemetry is dropped (counted), tried again every ${Math.round(pauseMs / 1000)} s`,
      );
      this.drop(job);
    } else if (r.retry && !this.stopped) {
      this.insert(job, true);
      const told = Math.min(r.retryAfterMs ?? 0, this.o.maxRetryAfterMs ?? 60_000);
      const delay = Math.max(this.backoff.next(), told);
      if (this.retryTimer !== undefined && told > 0 && this.now() + delay > this.retryAt) {
        // another job's shorter wait is running: the server's word wins
        clearTimeout(this.retryTimer);
        this.retryTimer = undefined;
      }
      if (this.retryTimer === undefined) {
        this.retryAt = this.now() + delay;
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.pump();
        }, delay);
      }
    } else if (REFUSED.has(r.status)) {
      if (job.kind === 'process') this.processRefused = true;
      else if (job.kind === 'stream' && job.streamId !== undefined) this.refusedStreams.add(job.streamId);
      const also = job.kind === 'process' ? ' and all of its streams and blocks' : job.kind === 'stream' ? ' and all of its blocks' : '';
      this.warnOnce(
        `${job.path} ${r.status}`,
        `sirius tracing: the server refused a ${job.kind} record (${r.status} ${r.message}); dropping it${also}, not retrying`,
      );
      this.drop(job);
    } else {
      this.warnOnce(`${job.path} ${r.status}`, `sirius tracing: giving up ${job.kind} (${r.status} ${r.message})`);
      this.drop(job);
    }
    this.pump();
  }

  /** true when the server has refused a record this job depends on, or refused the key a moment ago */
  private doomed(job: Job): boolean {
    return this.processRefused || (job.streamId !== undefined && this.refusedStreams.has(job.streamId))
      || (this.keyRefusedUntil > -Infinity && this.now() < this.keyRefusedUntil);
  }

  private drop(job: Job): void {
    this.dropped++;
    if (job.events > 0) this.o.budget.countDropped(job.events);
    this.finish(job);
  }

  private finish(job: Job): void {
    this.o.budget.release(job.bytes);
    this.outstanding.delete(job.seq!);
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (this.doneThrough(w.seq)) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    (this.o.warn ?? console.warn)(message);
  }
}
