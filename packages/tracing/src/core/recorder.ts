/**
 * The calling thread's side of the library: every event is a clock read plus a few stores into a
 * preallocated Float64Array. Nothing here allocates per event except a log message's slot in an array
 * (the string itself is the caller's) and, on first sight, a descriptor for a new string tuple.
 * Full buffers go to a {@link BatchSink}; if it refuses (memory bound) the newest buffer is dropped and
 * its events counted.
 */
import type { Properties } from '@sirius/transit';
import { Interner } from './interner.js';
import type { BatchSink } from './sink.js';
import {
  ASYNC_SPAN_SLOTS, BEGIN_ASYNC, BEGIN_THREAD, BIG_METRIC, END_ASYNC, END_THREAD, FLOAT_METRIC, INT_METRIC,
  LOG_SLOTS, METRIC_SLOTS, THREAD_SPAN_SLOTS,
  type Batch, type StreamKind,
} from './records.js';

export interface RecorderOptions {
  /** reads the thread's clock in milliseconds (sub-millisecond precision) */
  clock: () => number;
  /** distinguishes this thread's batches at the sender */
  thread: string;
  /** span ids start above this (threads get disjoint ranges) */
  spanIdBase: number;
  /** events per buffer */
  cpuEvents?: number;
  logEvents?: number;
  metricEvents?: number;
}

const NO_PROPS = null;

export class Recorder {
  readonly clock: () => number;
  readonly thread: string;
  readonly interner = new Interner();
  sink: BatchSink | undefined;
  /** events dropped while no sink was attached, handed to the sink once one is */
  private unreportedDrops = 0;

  private cpu: Float64Array;
  private cpuPos = 0;
  private cpuCount = 0;
  private readonly cpuCap: number;

  private log: Float64Array;
  private logPos = 0;
  private readonly logCap: number;
  private msgs: string[];
  private logProps: (Properties | null)[];
  private logHasProps = false;

  private met: Float64Array;
  private metPos = 0;
  private readonly metCap: number;
  private metProps: (Properties | null)[];
  private metHasProps = false;
  private bigs: bigint[] = [];

  private nextSpan: number;

  constructor(o: RecorderOptions) {
    this.clock = o.clock;
    this.thread = o.thread;
    this.nextSpan = o.spanIdBase + 1;
    this.cpuCap = (o.cpuEvents ?? 32768) * THREAD_SPAN_SLOTS;
    this.logCap = (o.logEvents ?? 8192) * LOG_SLOTS;
    this.metCap = (o.metricEvents ?? 8192) * METRIC_SLOTS;
    this.cpu = new Float64Array(this.cpuCap);
    this.log = new Float64Array(this.logCap);
    this.met = new Float64Array(this.metCap);
    this.msgs = new Array<string>(this.logCap / LOG_SLOTS).fill('');
    this.logProps = new Array<Properties | null>(this.logCap / LOG_SLOTS).fill(NO_PROPS);
    this.metProps = new Array<Properties | null>(this.metCap / METRIC_SLOTS).fill(NO_PROPS);
  }

  // ---- hot path -------------------------------------------------------------------------------

  threadSpan(kind: typeof BEGIN_THREAD | typeof END_THREAD, desc: number): void {
    const t = this.clock();
    let p = this.cpuPos;
    if (p + THREAD_SPAN_SLOTS > this.cpuCap) p = this.flushCpu();
    const a = this.cpu;
    a[p] = desc * 8 + kind;
    a[p + 1] = t;
    this.cpuPos = p + THREAD_SPAN_SLOTS;
    this.cpuCount++;
  }

  asyncSpan(kind: typeof BEGIN_ASYNC | typeof END_ASYNC, desc: number, spanId: number, parentId: number): void {
    const t = this.clock();
    let p = this.cpuPos;
    if (p + ASYNC_SPAN_SLOTS > this.cpuCap) p = this.flushCpu();
    const a = this.cpu;
    a[p] = desc * 8 + kind;
    a[p + 1] = t;
    a[p + 2] = spanId;
    a[p + 3] = parentId;
    this.cpuPos = p + ASYNC_SPAN_SLOTS;
    this.cpuCount++;
  }

  logEvent(level: number, target: number, msg: string, props: Properties | null): void {
    const t = this.clock();
    let p = this.logPos;
    if (p + LOG_SLOTS > this.logCap) p = this.flushLog();
    const a = this.log;
    a[p] = target * 8 + level;
    a[p + 1] = t;
    const k = p >> 1;
    this.msgs[k] = msg;
    if (props !== null) {
      this.logProps[k] = props;
      this.logHasProps = true;
    } else if (this.logHasProps) {
      this.logProps[k] = NO_PROPS;
    }
    this.logPos = p + LOG_SLOTS;
  }

  metric(desc: number, value: number | bigint, float: boolean, props: Properties | null): void {
    const t = this.clock();
    let p = this.metPos;
    if (p + METRIC_SLOTS > this.metCap) p = this.flushMetrics();
    const a = this.met;
    if (typeof value === 'number') {
      a[p] = desc * 8 + (float ? FLOAT_METRIC : INT_METRIC);
      a[p + 2] = value;
    } else {
      a[p] = desc * 8 + BIG_METRIC;
      a[p + 2] = this.bigs.push(value) - 1;
    }
    a[p + 1] = t;
    const k = p / METRIC_SLOTS;
    if (props !== null) {
      this.metProps[k] = props;
      this.metHasProps = true;
    } else if (this.metHasProps) {
      this.metProps[k] = NO_PROPS;
    }
    this.metPos = p + METRIC_SLOTS;
  }

  /** A thread span event that returns its clock reading, so a frame's `frame_time` costs no second read. */
  threadSpanTimed(kind: typeof BEGIN_THREAD | typeof END_THREAD, desc: number): number {
    const t = this.clock();
    this.threadSpanAt(kind, desc, t);
    return t;
  }

  /** A thread span event at a time read earlier (or given by the runtime, e.g. a GC entry's start). */
  threadSpanAt(kind: typeof BEGIN_THREAD | typeof END_THREAD, desc: number, t: number): void {
    let p = this.cpuPos;
    if (p + THREAD_SPAN_SLOTS > this.cpuCap) p = this.flushCpu();
    const a = this.cpu;
    a[p] = desc * 8 + kind;
    a[p + 1] = t;
    this.cpuPos = p + THREAD_SPAN_SLOTS;
    this.cpuCount++;
  }

  /** A float measure at a time read earlier (no properties). */
  floatMetricAt(desc: number, value: number, t: number): void {
    let p = this.metPos;
    if (p + METRIC_SLOTS > this.metCap) p = this.flushMetrics();
    const a = this.met;
    a[p] = desc * 8 + FLOAT_METRIC;
    a[p + 1] = t;
    a[p + 2] = value;
    if (this.metHasProps) this.metProps[p / METRIC_SLOTS] = NO_PROPS;
    this.metPos = p + METRIC_SLOTS;
  }

  newSpanId(): number {
    return this.nextSpan++;
  }

  // ---- hand-off ---------------------------------------------------------------------------------

  /** Hands every non-empty buffer to the sink (timer, shutdown). */
  flushAll(): void {
    if (this.logPos > 0) this.flushLog();
    if (this.metPos > 0) this.flushMetrics();
    if (this.cpuPos > 0) this.flushCpu();
    if (this.unreportedDrops > 0 && this.sink !== undefined) {
      this.sink.countDropped(this.unreportedDrops);
      this.unreportedDrops = 0;
    }
  }

  /** true when nothing is waiting in this thread's buffers */
  get empty(): boolean {
    return this.logPos === 0 && this.metPos === 0 && this.cpuPos === 0;
  }

  private flushCpu(): number {
    const events = this.cpuCount;
    const sent = this.submit('cpu', this.cpu, this.cpuPos, events, undefined, undefined, undefined);
    if (sent !== undefined) this.cpu = sent;
    this.cpuPos = 0;
    this.cpuCount = 0;
    return 0;
  }

  private flushLog(): number {
    const n = this.logPos / LOG_SLOTS;
    // Copying strings to the sender costs far more than a Map lookup; most messages repeat, so ship each
    // distinct string once per batch and an index per record.
    const seen = new Map<string, number>();
    const msgs: string[] = [];
    const msgIndex = new Uint32Array(n);
    const all = this.msgs;
    let last = '';
    let lastJ = -1;
    for (let k = 0; k < n; k++) {
      const m = all[k]!;
      if (m === last) {
        msgIndex[k] = lastJ; // runs of the same message skip the Map
        continue;
      }
      let j = seen.get(m);
      if (j === undefined) {
        j = msgs.push(m) - 1;
        seen.set(m, j);
      }
      msgIndex[k] = j;
      last = m;
      lastJ = j;
    }
    const props = this.logHasProps ? this.logProps.slice(0, n) : undefined;
    const sent = this.submit('log', this.log, this.logPos, n, msgs, props, undefined, msgIndex);
    if (sent !== undefined) this.log = sent;
    this.logPos = 0;
    if (this.logHasProps) {
      this.logProps.fill(NO_PROPS, 0, n);
      this.logHasProps = false;
    }
    return 0;
  }

  private flushMetrics(): number {
    const n = this.metPos / METRIC_SLOTS;
    const props = this.metHasProps ? this.metProps.slice(0, n) : undefined;
    const bigs = this.bigs.length > 0 ? this.bigs : undefined;
    const sent = this.submit('metrics', this.met, this.metPos, n, undefined, props, bigs);
    if (sent !== undefined) this.met = sent;
    this.metPos = 0;
    if (bigs !== undefined) this.bigs = [];
    if (this.metHasProps) {
      this.metProps.fill(NO_PROPS, 0, n);
      this.metHasProps = false;
    }
    return 0;
  }

  /** Returns a fresh buffer when the old one was transferred away; undefined means keep writing into the same one. */
  private submit(
    stream: StreamKind, f64: Float64Array, slots: number, events: number,
    msgs: string[] | undefined, props: (Properties | null)[] | undefined, bigs: bigint[] | undefined,
    msgIndex?: Uint32Array,
  ): Float64Array | undefined {
    const sink = this.sink;
    const length = f64.length; // read before the hand-off: a transferred array reads as empty
    if (sink === undefined) {
      this.unreportedDrops += events;
      return undefined;
    }
    let bytes = slots * 8;
    if (msgs !== undefined) for (let i = 0; i < msgs.length; i++) bytes += msgs[i]!.length + 16;
    if (props !== undefined) bytes += props.length * 8;
    if (msgIndex !== undefined) bytes += msgIndex.byteLength;
    const descriptors = this.interner.takePending();
    const batch: Batch = { type: 'batch', thread: this.thread, stream, f64, slots, events, bytes, descriptors };
    if (msgs !== undefined) batch.msgs = msgs;
    if (msgIndex !== undefined) batch.msgIndex = msgIndex;
    if (props !== undefined) batch.props = props;
    if (bigs !== undefined) batch.bigs = bigs;
    if (!sink.submit(batch)) {
      this.interner.restore(descriptors);
      sink.countDropped(events);
      return undefined;
    }
    if (f64.length !== 0) return undefined; // the sink copied: keep writing into the same buffer
    return sink.reuse(length) ?? new Float64Array(length);
  }
}
