/**
 * Turns a calling thread's batch (raw records + descriptors) into transit events with `BlockEncoder`.
 * Runs on the sender, off the calling thread: this is where clock readings become integer ticks
 * (nanoseconds since the process's time origin) and descriptor ids become strings again.
 */
import type { BlockEncoder } from '@sirius/transit';
import {
  ASYNC_SPAN_SLOTS, BEGIN_ASYNC, BEGIN_THREAD, BIG_METRIC, END_ASYNC, END_THREAD, FLOAT_METRIC, INT_METRIC,
  LOG_SLOTS, METRIC_SLOTS, THREAD_SPAN_SLOTS,
  type Batch, type Descriptor,
} from './records.js';

/** What the sender remembers about a calling thread. */
export interface ThreadTable {
  descriptors: Descriptor[];
  /** the thread's clock origin minus the process's, milliseconds */
  originOffsetMs: number;
}

export interface EncodedBatch {
  payload: Uint8Array;
  /** absolute ticks of the first and last event */
  beginTicks: number;
  endTicks: number;
  events: number;
}

export class BatchError extends Error {
  override readonly name = 'BatchError';
}

/** Registers the batch's descriptors, then encodes its records. */
export function encodeBatch(batch: Batch, table: ThreadTable, enc: BlockEncoder): EncodedBatch {
  for (const d of batch.descriptors) table.descriptors[d.id] = d;
  const a = batch.f64;
  const end = batch.slots;
  if (a.length < end) throw new BatchError(`batch of ${end} slots in a buffer of ${a.length}`);
  const off = table.originOffsetMs;
  if (end === 0) return { payload: enc.finish(), beginTicks: 0, endTicks: 0, events: 0 };
  const begin = Math.max(0, Math.round((a[1]! + off) * 1e6));
  let last = begin;
  const rel = (t: number): number => {
    const abs = Math.round((t + off) * 1e6);
    if (abs > last) last = abs;
    return abs > begin ? abs - begin : 0;
  };
  const desc = (code: number): Descriptor => {
    const d = table.descriptors[Math.floor(code / 8)];
    if (d === undefined) throw new BatchError(`unknown descriptor ${Math.floor(code / 8)} from thread ${batch.thread}`);
    return d;
  };
  let p = 0;
  let k = 0;
  if (batch.stream === 'cpu') {
    while (p < end) {
      const code = a[p]!;
      const kind = code % 8;
      const d = desc(code);
      if (d.kind !== 'span') throw new BatchError('cpu record with a non-span descriptor');
      const t = rel(a[p + 1]!);
      if (kind === BEGIN_THREAD) enc.beginThreadSpan(t, d.name, d.target, d.filename, d.line);
      else if (kind === END_THREAD) enc.endThreadSpan(t, d.name, d.target, d.filename, d.line);
      else if (kind === BEGIN_ASYNC) enc.beginAsyncSpan(t, a[p + 2]!, a[p + 3]!, d.name, d.target, d.filename, d.line);
      else if (kind === END_ASYNC) enc.endAsyncSpan(t, a[p + 2]!, a[p + 3]!, d.name, d.target, d.filename, d.line);
      else throw new BatchError(`bad cpu record kind ${kind}`);
      p += kind === BEGIN_THREAD || kind === END_THREAD ? THREAD_SPAN_SLOTS : ASYNC_SPAN_SLOTS;
    }
  } else if (batch.stream === 'log') {
    const msgs = batch.msgs ?? [];
    const index = batch.msgIndex;
    if (index === undefined || index.length < end / LOG_SLOTS) throw new BatchError('log batch without a message index');
    const props = batch.props;
    for (; p < end; p += LOG_SLOTS, k++) {
      const code = a[p]!;
      const d = desc(code);
      if (d.kind !== 'log') throw new BatchError('log record with a non-log descriptor');
      const msg = msgs[index[k]!];
      if (msg === undefined) throw new BatchError(`log record ${k} points past the batch's messages`);
      enc.log(rel(a[p + 1]!), code % 8, d.target, msg, props?.[k] ?? null);
    }
  } else {
    const props = batch.props;
    for (; p < end; p += METRIC_SLOTS, k++) {
      const code = a[p]!;
      const kind = code % 8;
      const d = desc(code);
      if (d.kind !== 'metric') throw new BatchError('metric record with a non-metric descriptor');
      const t = rel(a[p + 1]!);
      const pr = props?.[k] ?? null;
      if (kind === FLOAT_METRIC) enc.floatMetric(t, d.name, d.unit, d.target, a[p + 2]!, pr);
      else if (kind === INT_METRIC) enc.intMetric(t, d.name, d.unit, d.target, Math.trunc(a[p + 2]!), pr);
      else if (kind === BIG_METRIC) enc.intMetric(t, d.name, d.unit, d.target, batch.bigs![a[p + 2]!]!, pr);
      else throw new BatchError(`bad metric record kind ${kind}`);
    }
  }
  return { payload: enc.finish(), beginTicks: begin, endTicks: last, events: batch.events };
}
