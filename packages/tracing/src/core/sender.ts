/**
 * The sender: receives batches from every thread of the process, encodes each one into a block, compresses
 * it and queues it for upload. It owns the process's `log` and `metrics` streams and one `cpu` stream per
 * thread, and reports events dropped under the memory bound as the `sirius.dropped_events` metric once the
 * server stores blocks again. Platform code runs it in a worker (Node) and feeds it messages.
 */
import { BlockEncoder, encodeBlock } from '@sirius/transit';
import type { Codec, ProcessInfo, StreamInfo } from '@sirius/transit';
import { encodeBatch, type ThreadTable } from './batch-encoder.js';
import type { Budget } from './budget.js';
import type { Batch, StreamKind, ThreadHello } from './records.js';
import type { Transport } from './transport.js';
import { storableProcess, storableStream } from './storable.js';
import { PRIORITY, Uploader, type Job } from './uploader.js';

export interface SenderOptions {
  process: ProcessInfo;
  logStreamId: string;
  metricsStreamId: string;
  transport: Transport;
  codec: Codec;
  budget: Budget;
  /** the process clock in ticks (ns since the process time origin), for events the sender makes itself */
  nowTicks: () => number;
  newId: () => string;
  concurrency?: number;
  backoff?: { baseMs?: number; capMs?: number };
  warn?: (message: string) => void;
}

export const DROPPED_METRIC = 'sirius.dropped_events';

export class Sender {
  private readonly threads = new Map<string, ThreadTable & { cpuStreamId: string }>();
  private readonly streams = new Map<string, StreamInfo>();
  private readonly encoder = new BlockEncoder({ initialCapacity: 1 << 16 });
  private readonly uploader: Uploader;
  private readonly originNs: bigint;
  private readonly warn: (message: string) => void;
  /** what is sent as the process record: the caller's, made storable */
  private readonly process: ProcessInfo;

  constructor(private readonly o: SenderOptions) {
    this.warn = o.warn ?? ((m) => console.warn(m));
    this.process = storableProcess(o.process);
    this.originNs = BigInt(o.process.start_time) - BigInt(o.process.start_ticks);
    this.uploader = new Uploader({
      transport: o.transport,
      budget: o.budget,
      concurrency: o.concurrency,
      backoff: o.backoff,
      warn: this.warn,
      register: (streamId) => [this.processJob(), this.streamJob(this.streams.get(streamId)!)],
      onBlockStored: () => this.reportDrops(),
    });
    this.uploader.enqueue(this.processJob());
    this.addStream({ stream_id: o.logStreamId, process_id: o.process.process_id, tags: ['log'], properties: {} });
    this.addStream({ stream_id: o.metricsStreamId, process_id: o.process.process_id, tags: ['metrics'], properties: {} });
  }

  hello(h: ThreadHello): void {
    if (this.threads.has(h.thread)) return;
    this.threads.set(h.thread, { descriptors: [], originOffsetMs: h.originOffsetMs, cpuStreamId: h.cpuStreamId });
    this.addStream({
      stream_id: h.cpuStreamId,
      process_id: this.o.process.process_id,
      tags: ['cpu'],
      properties: { thread_name: h.threadName, thread_id: String(h.threadId) },
    });
  }

  /** Encodes and queues one batch; the batch's charge is swapped for the compressed block's. */
  batch(b: Batch): void {
    const table = this.threads.get(b.thread);
    try {
      if (table === undefined) throw new Error(`batch from unknown thread ${b.thread}`);
      if (b.events === 0) return;
      const e = encodeBatch(b, table, this.encoder);
      const streamId = this.streamOf(b.stream, table.cpuStreamId);
      this.queueBlock(streamId, e.payload, e.beginTicks, e.endTicks, e.events);
    } catch (err) {
      this.encoder.finish();
      this.warn(`sirius tracing: dropped a batch of ${b.events} events: ${(err as Error).message}`);
      this.o.budget.countDropped(b.events);
    } finally {
      this.o.budget.release(b.bytes);
    }
  }

  /** Resolves when everything queued so far is stored (or given up). */
  flush(): Promise<void> {
    this.reportDrops();
    return this.uploader.drained();
  }

  get storedBlocks(): number {
    return this.uploader.stored;
  }

  get pendingJobs(): number {
    return this.uploader.pending;
  }

  stop(): void {
    this.uploader.stop();
  }

  private streamOf(kind: StreamKind, cpu: string): string {
    return kind === 'log' ? this.o.logStreamId : kind === 'metrics' ? this.o.metricsStreamId : cpu;
  }

  private queueBlock(streamId: string, payload: Uint8Array, beginTicks: number, endTicks: number, events: number): void {
    const body = encodeBlock(
      {
        block_id: this.o.newId(),
        stream_id: streamId,
        process_id: this.o.process.process_id,
        begin_time: this.originNs + BigInt(beginTicks),
        begin_ticks: BigInt(beginTicks),
        end_time: this.originNs + BigInt(endTicks),
        end_ticks: BigInt(endTicks),
        nb_objects: events,
      },
      payload,
      this.o.codec,
    );
    this.o.budget.charge(body.length);
    this.uploader.enqueue({
      kind: 'block', path: '/ingestion/insert_block', body, contentType: 'application/octet-stream',
      bytes: body.length, events, streamId, priority: this.priorityOf(streamId),
    });
  }

  /** Called after a block is stored: the server is reachable, so say how many events were lost. */
  private reportDrops(): void {
    const n = this.o.budget.takeUnreported();
    if (n <= 0) return;
    const t = Math.max(0, Math.round(this.o.nowTicks()));
    this.encoder.intMetric(0, DROPPED_METRIC, 'count', 'sirius.tracing', n);
    this.queueBlock(this.o.metricsStreamId, this.encoder.finish(), t, t, 1);
  }

  /** logs before metrics before spans: what a short deadline keeps */
  private priorityOf(streamId: string): number {
    return streamId === this.o.logStreamId ? PRIORITY.log : streamId === this.o.metricsStreamId ? PRIORITY.metrics : PRIORITY.cpu;
  }

  private addStream(info: StreamInfo): void {
    const s = storableStream(info);
    this.streams.set(s.stream_id, s);
    this.uploader.enqueue(this.streamJob(s));
  }

  private processJob(): Job {
    return { kind: 'process', path: '/ingestion/insert_process', body: JSON.stringify(this.process), contentType: 'application/json', bytes: 0, events: 0 };
  }

  private streamJob(s: StreamInfo): Job {
    return {
      kind: 'stream', path: '/ingestion/insert_stream', body: JSON.stringify(s), contentType: 'application/json',
      bytes: 0, events: 0, streamId: s.stream_id,
    };
  }
}
