/**
 * The in-memory record layout shared by the calling thread (which writes records) and the sender (which
 * turns them into transit events). Records are runs of float64 slots so that the hot path is a handful of
 * typed-array stores: `code = descriptorId * 8 + kind`, then the raw clock reading (milliseconds since the
 * thread's time origin), then kind-specific slots. Strings never travel in records: they are interned once
 * per thread into descriptors, which ride along with the first batch that needs them.
 */
import type { Properties } from '@sirius/transit';

/** Record kinds of the `cpu` stream. */
export const BEGIN_THREAD = 0;
export const END_THREAD = 1;
export const BEGIN_ASYNC = 2;
export const END_ASYNC = 3;
/** Record kinds of the `metrics` stream. */
export const INT_METRIC = 4;
export const FLOAT_METRIC = 5;
/** An integer metric whose value is a bigint kept in the batch's side array (value slot = its index). */
export const BIG_METRIC = 6;

/** Slots per record: `[code, t]` thread span, `[code, t, spanId, parentId]` async span. */
export const THREAD_SPAN_SLOTS = 2;
export const ASYNC_SPAN_SLOTS = 4;
/** `[code, t]` where code = targetDescriptor * 8 + level; message and properties in parallel arrays. */
export const LOG_SLOTS = 2;
/** `[code, t, value]`; properties in a parallel array indexed by record number. */
export const METRIC_SLOTS = 3;

/** A string tuple interned once per thread; `id` is what records carry. */
export type Descriptor =
  | { id: number; kind: 'span'; name: string; target: string; filename: string; line: number }
  | { id: number; kind: 'metric'; name: string; unit: string; target: string }
  | { id: number; kind: 'log'; target: string };

export type StreamKind = 'log' | 'metrics' | 'cpu';

/** What a calling thread hands to the sender: one stream's records since the last hand-off. */
export interface Batch {
  type: 'batch';
  /** the thread that wrote it (its descriptors and clock origin) */
  thread: string;
  stream: StreamKind;
  /** records; only the first `slots` entries are meaningful */
  f64: Float64Array;
  slots: number;
  /** number of events */
  events: number;
  /** bytes charged against the memory bound while this batch is queued */
  bytes: number;
  /** descriptors this thread defined since its previous batch (any stream) */
  descriptors: Descriptor[];
  /** distinct log messages of the batch */
  msgs?: string[];
  /** per log record, its message's index in `msgs` */
  msgIndex?: Uint32Array;
  /** properties per record (logs, metrics) when any record had some */
  props?: (Properties | null)[];
  /** bigint metric values */
  bigs?: bigint[];
}

/** Announces a thread (and its cpu stream) before its first batch. */
export interface ThreadHello {
  type: 'thread';
  thread: string;
  threadName: string;
  threadId: number;
  /** this thread's clock origin minus the process's, in milliseconds */
  originOffsetMs: number;
  cpuStreamId: string;
  /** false: this stream is never tail-sampled (a synthetic stream such as Node's `gc`); default true */
  sampled?: boolean;
}
