/**
 * The seam between the lakehouse (which owns Parquet partitions and turns blocks into rows) and the
 * analytics engine (which runs SQL over them). Analytics asks for a view over a time range and gets the
 * files to read; it never decodes blocks itself.
 */

/** A half-open range of nanosecond timestamps since the Unix epoch: [begin, end). */
export interface TimeRange {
  begin: bigint;
  end: bigint;
}

/** What a query over one view (global or one instance) within a time range must read. */
export interface ViewSource {
  /** committed Parquet partitions overlapping the range, as object-store keys */
  objectKeys: string[];
  /** ephemeral local Parquet files holding data not yet materialized (read, then `release()`) */
  localFiles: string[];
  /** DuckDB column definitions (`"name" TYPE, …`), so an empty view still has its schema */
  columns: string;
  /** the event-time column the range applies to, or null when the view has none */
  timeColumn: string | null;
  /**
   * for views of intervals (spans): the column holding a row's end; a row is in the range when it overlaps it
   * (`timeColumn` < end and, when it begins before the range, `timeEndColumn` > begin)
   */
  timeEndColumn?: string;
  /** deletes the ephemeral files */
  release(): Promise<void>;
}

export interface ResolveOptions {
  /**
   * Cancels the resolution: once aborted, `resolve` rejects with `signal.reason` (an `AbortError` DOMException
   * unless the caller aborted with a reason of its own) within one step of work — a segment's lookup, a block
   * fetch, a file write — and leaves no partition row half-written and no local file behind. A query passes one
   * signal that aborts on its client leaving and on its time budget running out.
   */
  signal?: AbortSignal;
}

export interface Lakehouse {
  /** names of the views this lakehouse serves, global and per-instance */
  viewNames(): string[];
  /**
   * Resolves a view for a query. `instance` is 'global' for the global views, else a stream id
   * (`thread_spans`) or a process id (`async_events`, `log_entries`, `measures`). Just-in-time views are
   * materialized (or extended) before this resolves; their cost follows the hours that hold data, not the
   * length of the range.
   */
  resolve(view: string, instance: string, range: TimeRange, opts?: ResolveOptions): Promise<ViewSource>;
}
