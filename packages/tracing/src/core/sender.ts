/**
 * The sender: receives batches from every thread of the process, encodes each one into a block, compresses
 * it and queues it for upload. It owns the process's `log` and `metrics` streams and one `cpu` stream per
 * thread, and reports events dropped under the memory bound as the `sirius.dropped_events` metric once the
 * server stores blocks again. Platform code runs it in a worker (Node) and feeds it messages.
 *
 * With tail sampling, a thread's cpu records wait in the window as raw segments (a frame each, by default);
 * once decided, the kept segments that follow each other go out as one block, so a run of kept frames pays
 * one string table and one compression window rather than one per frame.
 */
import { BlockEncoder, encodeBlock } from '@sirius/transit';
import type { Codec, ProcessInfo, StreamInfo } from '@sirius/transit';
import { encodeBatch, type ThreadTable } from './batch-encoder.js';
import type { Budget } from './budget.js';
import { CpuSegmenter, type CpuSegment } from './cpu-segmenter.js';
import { FRAME_SPAN, FRAME_TARGET, KEEP_TRACE_TARGET } from './frames.js';
import { LOG_SLOTS, type Batch, type StreamKind, type ThreadHello } from './records.js';
import { defaultSamplingPolicy } from './sampling-policy.js';
import { compilePolicy, type SamplingSettings } from './sampling-settings.js';
import { TailSampler } from './tail-sampler.js';
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
  /** tail sampling of cpu streams (resolved with `resolveSampling`); absent or false: every block is sent */
  sampling?: SamplingSettings | false;
  /** uniform in [0, 1), for the baseline fraction (seeded in tests) */
  random?: () => number;
}

export const DROPPED_METRIC = 'sirius.dropped_events';
/**
 * What the tail sampler did since the previous report (sum them). "Blocks" count the policy's decisions, one
 * per cpu segment (a frame, by default), not the blocks uploaded: consecutive kept segments share one
 * uploaded block. Kept bytes are the compressed bytes uploaded for the kept segments; discarded bytes are the
 * raw record bytes of the discarded ones (8 per slot: they are never encoded, so they have no compressed size).
 */
export const KEPT_BLOCKS_METRIC = 'sirius.sampling.kept_blocks';
export const DISCARDED_BLOCKS_METRIC = 'sirius.sampling.discarded_blocks';
export const KEPT_BYTES_METRIC = 'sirius.sampling.kept_bytes';
export const DISCARDED_BYTES_METRIC = 'sirius.sampling.discarded_bytes';
/** the counts are a few dozen bytes a report: every 10 s keeps them a rounding error next to what sampling saves */
const SAMPLING_REPORT_MS = 10_000;
const MAX_WINDOW_BYTES = 8 * 1024 * 1024;
/**
 * Bounds of one block made of kept segments: about what an unsampled thread sends in a block (a hand-off a
 * second), so a long kept run (a hitchy minute, a baseline of 1) neither makes huge blocks nor waits long.
 */
const MAX_RUN_MS = 1000;
const MAX_RUN_SLOTS = 1 << 15;

/** A cpu segment in the sampling window: its records, copied (the batch's buffer goes back to its thread). */
interface HeldSegment {
  thread: string;
  /** its place among its thread's held segments: consecutive numbers are adjacent records */
  seq: number;
  f64: Float64Array;
  events: number;
  begin: number;
  end: number;
  /** charged to the memory bound while held */
  bytes: number;
}

/** Kept segments of one thread that follow each other (consecutive seqs), to be encoded as one block. */
interface KeptRun {
  parts: HeldSegment[];
  slots: number;
  events: number;
  bytes: number;
}

/** the seq of the segment that would extend the run */
const nextSeq = (run: KeptRun): number => run.parts[run.parts.length - 1]!.seq + 1;

interface SenderThread extends ThreadTable {
  cpuStreamId: string;
  sampled: boolean;
  segmenter: CpuSegmenter | undefined;
  /** descriptor id of this thread's frame span, -1 until defined */
  frameDesc: number;
  /** segments held so far (the next one's seq), and decided so far (the window decides each thread's in order) */
  held: number;
  decided: number;
  /** kept segments waiting for the decision on the one after them, which may extend their block */
  run: KeptRun | undefined;
}

interface SamplingCounts {
  keptBlocks: number;
  discardedBlocks: number;
  keptBytes: number;
  discardedBytes: number;
  lastReport: number;
}

export class Sender {
  private readonly threads = new Map<string, SenderThread>();
  private readonly sampler: TailSampler<HeldSegment> | undefined;
  private readonly sampling: SamplingSettings | undefined;
  private samplingTimer: ReturnType<typeof setInterval> | undefined;
  private readonly counts: SamplingCounts = { keptBlocks: 0, discardedBlocks: 0, keptBytes: 0, discardedBytes: 0, lastReport: 0 };
  private policyWarned = false;
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
    if (o.sampling) {
      this.sampling = o.sampling;
      const policy = o.sampling.policySource === undefined ? defaultSamplingPolicy : compilePolicy(o.sampling.policySource);
      const maxWindow = o.sampling.maxWindowBytes ?? Math.min(MAX_WINDOW_BYTES, Math.floor(o.budget.maxBytes / 4));
      this.sampler = new TailSampler<HeldSegment>(o.sampling, policy, maxWindow, o.random);
    }
    this.uploader.enqueue(this.processJob());
    this.addStream({ stream_id: o.logStreamId, process_id: o.process.process_id, tags: ['log'], properties: {} });
    this.addStream({ stream_id: o.metricsStreamId, process_id: o.process.process_id, tags: ['metrics'], properties: {} });
  }

  hello(h: ThreadHello): void {
    if (this.threads.has(h.thread)) return;
    const t: SenderThread = {
      descriptors: [], originOffsetMs: h.originOffsetMs, cpuStreamId: h.cpuStreamId, sampled: h.sampled !== false,
      segmenter: undefined, frameDesc: -1, held: 0, decided: 0, run: undefined,
    };
    const sampler = this.sampler;
    if (sampler !== undefined && t.sampled) {
      t.segmenter = new CpuSegmenter(this.sampling!.framesPerBlock, (d) => d === t.frameDesc, (f) => sampler.addFrame(h.thread, f));
    }
    this.threads.set(h.thread, t);
    this.addStream({
      stream_id: h.cpuStreamId,
      process_id: this.o.process.process_id,
      tags: ['cpu'],
      properties: { thread_name: h.threadName, thread_id: String(h.threadId) },
    });
  }

  /** Encodes and queues one batch (or, sampled, holds its segments' records); the batch's charge is swapped for what is kept of it. */
  batch(b: Batch): void {
    const table = this.threads.get(b.thread);
    try {
      if (table === undefined) throw new Error(`batch from unknown thread ${b.thread}`);
      // descriptors ride with whichever stream's batch goes first: register them before any record needs one
      for (const d of b.descriptors) {
        table.descriptors[d.id] = d;
        if (d.kind === 'span' && d.name === FRAME_SPAN && d.target === FRAME_TARGET) table.frameDesc = d.id;
      }
      if (b.events === 0) return;
      if (b.stream === 'cpu' && table.segmenter !== undefined) {
        this.sampledCpuBatch(b, table, table.segmenter);
        return;
      }
      const e = encodeBatch(b, table, this.encoder);
      const streamId = this.streamOf(b.stream, table.cpuStreamId);
      this.uploader.enqueue(this.blockJob(streamId, e.payload, e.beginTicks, e.endTicks, e.events));
      if (b.stream === 'log' && this.sampler !== undefined) this.collectMarks(b, table, this.sampler);
    } catch (err) {
      this.encoder.finish();
      this.warn(`sirius tracing: dropped a batch of ${b.events} events: ${(err as Error).message}`);
      this.o.budget.countDropped(b.events);
    } finally {
      this.o.budget.release(b.bytes);
    }
  }

  /**
   * Resolves when everything queued so far is stored (or given up). With tail sampling, every waiting block
   * is decided now, with what is known (the program is usually ending).
   */
  flush(): Promise<void> {
    if (this.sampler !== undefined) {
      for (const [thread, t] of this.threads) {
        const seg = t.segmenter?.takeCarry();
        if (seg !== undefined) this.holdSegment(thread, seg);
      }
      this.decide(Infinity, true);
    }
    this.reportDrops();
    return this.uploader.drained();
  }

  /** segments waiting in the sampling window and their raw bytes (for tests and the memory bound) */
  get samplingWindow(): { blocks: number; bytes: number; remembered: number } {
    const s = this.sampler;
    return s === undefined ? { blocks: 0, bytes: 0, remembered: 0 } : { blocks: s.heldBlocks, bytes: s.heldBytes, remembered: s.remembered };
  }

  get storedBlocks(): number {
    return this.uploader.stored;
  }

  get pendingJobs(): number {
    return this.uploader.pending;
  }

  stop(): void {
    if (this.samplingTimer !== undefined) clearInterval(this.samplingTimer);
    this.samplingTimer = undefined;
    this.uploader.stop();
  }

  /**
   * Decides the blocks whose window has passed at `nowMs` (process clock; the sender's own timer calls this
   * with the current time) and reports kept/discarded counts at most every 10 s (always when `report`).
   */
  decide(nowMs: number, report = false): void {
    const sampler = this.sampler;
    if (sampler === undefined) return;
    const d = sampler.decide(nowMs);
    const c = this.counts;
    for (const seg of d.discarded) {
      this.threads.get(seg.thread)!.decided++;
      this.o.budget.release(seg.bytes);
    }
    for (const seg of d.kept) {
      const t = this.threads.get(seg.thread)!;
      t.decided++;
      const run = t.run;
      if (run !== undefined && nextSeq(run) === seg.seq && run.slots + seg.f64.length <= MAX_RUN_SLOTS && seg.end - run.parts[0]!.begin <= MAX_RUN_MS) {
        run.parts.push(seg);
        run.slots += seg.f64.length;
        run.events += seg.events;
        run.bytes += seg.bytes;
        continue;
      }
      if (run !== undefined) this.uploadRun(t, run);
      t.run = { parts: [seg], slots: seg.f64.length, events: seg.events, bytes: seg.bytes };
    }
    // a run waits only while the segment after it is still in the window (it may be kept and join the block)
    for (const t of this.threads.values()) {
      const run = t.run;
      if (run !== undefined && !(nextSeq(run) === t.decided && t.held > t.decided)) this.uploadRun(t, run);
    }
    c.keptBlocks += d.kept.length;
    c.discardedBlocks += d.discarded.length;
    c.discardedBytes += d.discardedBytes;
    if (sampler.heldBlocks === 0 && this.samplingTimer !== undefined) {
      clearInterval(this.samplingTimer);
      this.samplingTimer = undefined;
    }
    if (sampler.policyErrors > 0 && !this.policyWarned) {
      this.policyWarned = true;
      this.warn('sirius tracing: the sampling policy threw; the blocks it was deciding were kept');
    }
    const now = this.o.nowTicks() / 1e6;
    if (c.keptBlocks + c.discardedBlocks + c.keptBytes === 0 || (!report && now - c.lastReport < SAMPLING_REPORT_MS)) return;
    c.lastReport = now;
    const t = Math.max(0, Math.round(this.o.nowTicks()));
    this.encoder.intMetric(0, KEPT_BLOCKS_METRIC, 'count', 'sirius.tracing', c.keptBlocks);
    this.encoder.intMetric(0, DISCARDED_BLOCKS_METRIC, 'count', 'sirius.tracing', c.discardedBlocks);
    this.encoder.intMetric(0, KEPT_BYTES_METRIC, 'bytes', 'sirius.tracing', c.keptBytes);
    this.encoder.intMetric(0, DISCARDED_BYTES_METRIC, 'bytes', 'sirius.tracing', c.discardedBytes);
    this.uploader.enqueue(this.blockJob(this.o.metricsStreamId, this.encoder.finish(), t, t, 4));
    c.keptBlocks = c.discardedBlocks = c.keptBytes = c.discardedBytes = 0;
  }

  /** Encodes a run of kept segments as one block and queues it; their raw records' charge is released. */
  private uploadRun(t: SenderThread, run: KeptRun): void {
    t.run = undefined;
    let f64 = run.parts[0]!.f64;
    if (run.parts.length > 1) {
      f64 = new Float64Array(run.slots);
      let at = 0;
      for (const p of run.parts) {
        f64.set(p.f64, at);
        at += p.f64.length;
      }
    }
    const thread = run.parts[0]!.thread;
    try {
      // descriptors were registered in the thread's table as their batches arrived; the encoder writes the
      // strings this block's records use into the block itself
      const e = encodeBatch({ type: 'batch', thread, stream: 'cpu', f64, slots: run.slots, events: run.events, bytes: 0, descriptors: [] }, t, this.encoder);
      const job = this.blockJob(t.cpuStreamId, e.payload, e.beginTicks, e.endTicks, e.events);
      this.uploader.enqueue(job);
      this.counts.keptBytes += job.bytes;
    } catch (err) {
      this.encoder.finish();
      this.warn(`sirius tracing: dropped ${run.events} kept cpu events: ${(err as Error).message}`);
      this.o.budget.countDropped(run.events);
    } finally {
      this.o.budget.release(run.bytes);
    }
  }

  /** Cuts a cpu batch at frame boundaries (once the program records frames) and holds the blocks for the policy. */
  private sampledCpuBatch(b: Batch, table: SenderThread, segmenter: CpuSegmenter): void {
    const sampler = this.sampler!;
    const segments = segmenter.process(b.f64, b.slots, table.originOffsetMs, () => sampler.engaged);
    for (const seg of segments) {
      const sub: Batch = { ...b, f64: seg.f64, slots: seg.slots, events: seg.events, descriptors: [] };
      if (!sampler.engaged) {
        const e = encodeBatch(sub, table, this.encoder);
        this.uploader.enqueue(this.blockJob(table.cpuStreamId, e.payload, e.beginTicks, e.endTicks, e.events));
      } else {
        this.holdSegment(b.thread, seg);
      }
    }
  }

  /**
   * Holds a segment's records for the policy, charged to the memory bound by their raw size. They are
   * encoded only if kept, together with the kept segments next to them (`decide`).
   */
  private holdSegment(thread: string, seg: CpuSegment): void {
    const sampler = this.sampler!;
    const t = this.threads.get(thread)!;
    const f64 = seg.f64.slice(0, seg.slots);
    const bytes = f64.byteLength;
    this.o.budget.charge(bytes);
    const held: HeldSegment = { thread, seq: t.held++, f64, events: seg.events, begin: seg.begin, end: seg.end, bytes };
    sampler.hold({ thread, begin: seg.begin, end: seg.end, events: seg.events, bytes, frames: seg.frames }, held, !seg.selfContained);
    if (this.samplingTimer === undefined) {
      const every = Math.max(10, Math.min(250, this.sampling!.windowMs / 4));
      this.samplingTimer = setInterval(() => this.decide(this.o.nowTicks() / 1e6), every);
      (this.samplingTimer as { unref?: () => void }).unref?.();
    }
    // a full window decides its oldest blocks now rather than holding more than its bound
    if (sampler.heldBytes > sampler.maxWindowBytes) this.decide(this.o.nowTicks() / 1e6);
  }

  /** error/fatal logs and keepTrace calls ask the sampler to keep the trace around them */
  private collectMarks(b: Batch, table: ThreadTable, sampler: TailSampler<HeldSegment>): void {
    const a = b.f64;
    const msgs = b.msgs ?? [];
    const index = b.msgIndex;
    for (let p = 0, k = 0; p < b.slots; p += LOG_SLOTS, k++) {
      const code = a[p]!;
      const level = code % 8;
      const d = table.descriptors[Math.floor(code / 8)];
      const keep = d !== undefined && d.kind === 'log' && d.target === KEEP_TRACE_TARGET;
      if (level > 2 && !keep) continue;
      const reason = index === undefined ? '' : (msgs[index[k]!] ?? '');
      sampler.addMark({ kind: keep ? 'keep' : 'error', time: a[p + 1]! + table.originOffsetMs, reason });
    }
  }

  private streamOf(kind: StreamKind, cpu: string): string {
    return kind === 'log' ? this.o.logStreamId : kind === 'metrics' ? this.o.metricsStreamId : cpu;
  }

  /** Compresses a block and charges it to the memory bound; the caller queues it or holds it for sampling. */
  private blockJob(streamId: string, payload: Uint8Array, beginTicks: number, endTicks: number, events: number): Job {
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
    return {
      kind: 'block', path: '/ingestion/insert_block', body, contentType: 'application/octet-stream',
      bytes: body.length, events, streamId, priority: this.priorityOf(streamId),
    };
  }

  /** Called after a block is stored: the server is reachable, so say how many events were lost. */
  private reportDrops(): void {
    const n = this.o.budget.takeUnreported();
    if (n <= 0) return;
    const t = Math.max(0, Math.round(this.o.nowTicks()));
    this.encoder.intMetric(0, DROPPED_METRIC, 'count', 'sirius.tracing', n);
    this.uploader.enqueue(this.blockJob(this.o.metricsStreamId, this.encoder.finish(), t, t, 1));
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
