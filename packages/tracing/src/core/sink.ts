import type { Batch } from './records.js';

/**
 * Where a calling thread hands its full buffers. Implementations charge the batch against the shared
 * memory bound and refuse it (returning false) when the bound would be exceeded; the recorder then drops
 * the batch and counts its events.
 */
export interface BatchSink {
  submit(batch: Batch): boolean;
  /** a buffer the sender gave back, to avoid allocating; undefined when none is free */
  reuse(slots: number): Float64Array | undefined;
  /** adds events the recorder dropped on its own (no sink yet, or refused) to the process-wide count */
  countDropped(events: number): void;
}
