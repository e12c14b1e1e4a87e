/**
 * A whole Perfetto trace from span view rows held in memory (tests, small exports). Large ranges go
 * through `PerfettoTraceWriter` piece by piece instead (trace-export.ts); this is the same writer fed at once.
 */
import type { RowBatch } from '../../lakehouse/row-batch.js';
import { PerfettoTraceWriter, type PerfettoProcess } from './trace-writer.js';
import type { SliceInfo } from './slice-info.js';

export interface PerfettoThread {
  stream_id: string;
  /** the thread name to show */
  name: string;
  /** `thread_spans` rows of the stream (any order) */
  rows: RowBatch;
}

export interface PerfettoTraceInput {
  process: PerfettoProcess;
  threads: readonly PerfettoThread[];
  /** `async_events` rows of the process */
  async?: RowBatch;
}

function column<T>(rows: RowBatch, name: string): T[] {
  const i = rows.columns.findIndex((c) => c.name === name);
  if (i < 0) throw new TypeError(`row batch has no column "${name}"`);
  return rows.values[i] as T[];
}

const byTime = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

/** row i's name and source location, as thread and async rows both carry them */
function locations(rows: RowBatch): (i: number) => SliceInfo {
  const name = column<string>(rows, 'name');
  const target = column<string>(rows, 'target');
  const filename = column<string>(rows, 'filename');
  const line = column<number>(rows, 'line');
  return (i) => ({ name: name[i]!, target: target[i]!, filename: filename[i]!, line: line[i]! });
}

/**
 * @example
 * const bytes = perfettoTrace({ process: { process_id, exe: 'game' }, threads: [{ stream_id, name: 'main', rows }] });
 * await writeFile('trace.perfetto', bytes); // open in ui.perfetto.dev
 */
export function perfettoTrace(input: PerfettoTraceInput): Uint8Array {
  const writer = new PerfettoTraceWriter(input.process, input.threads.map((t) => t.name));
  input.threads.forEach((thread, ti) => {
    const rows = thread.rows;
    const begin = column<bigint>(rows, 'begin');
    const end = column<bigint>(rows, 'end');
    const depth = column<number>(rows, 'depth');
    const where = locations(rows);
    const order = Array.from({ length: rows.length }, (_, i) => i);
    // outer slices first on equal begins: lower depth, then the longer one
    order.sort((a, b) => byTime(begin[a]!, begin[b]!) || depth[a]! - depth[b]! || byTime(end[b]!, end[a]!) || a - b);
    for (const i of order) writer.threadSpan(ti, begin[i]!, end[i]!, depth[i]!, where(i));
  });
  const rows = input.async;
  if (rows !== undefined && rows.length > 0) {
    const time = column<bigint>(rows, 'time');
    const type = column<string>(rows, 'event_type');
    const spanId = column<bigint>(rows, 'span_id');
    const parentId = column<bigint>(rows, 'parent_span_id');
    const depth = column<number>(rows, 'depth');
    const where = locations(rows);
    const order = Array.from({ length: rows.length }, (_, i) => i);
    order.sort((a, b) => byTime(time[a]!, time[b]!) || a - b);
    for (const i of order) {
      writer.asyncEvent(time[i]!, type[i]!, spanId[i]!, parentId[i]!, depth[i]!, where(i));
    }
  }
  return writer.finish();
}
