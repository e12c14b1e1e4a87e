/**
 * One process's CPU trace over [begin, end) as Perfetto bytes, produced piece by piece. The range is read
 * in time windows (one query each, so just-in-time span views decode only the segments a window overlaps),
 * and each window's rows are streamed in bounded batches ordered by time. After every batch the writer
 * hands out every event no later row can precede (trace-writer.ts), so the bytes of the first window leave
 * before the next is decoded and memory holds one batch, the open spans and one output piece, whatever
 * the range.
 *
 * A span belongs to the window where it begins (thread spans by `begin`, async spans by their begin event),
 * so a span crossing a window edge is written once, with its true begin and end.
 *
 * @example
 *   const exp = await openTraceExport(engine, { processId, begin, end });
 *   for await (const piece of exp.pieces()) out.write(piece);
 */
import type { RecordBatch } from 'apache-arrow';
import type { QueryEngine } from '../query-engine.js';
import { PerfettoTraceWriter, type PerfettoProcess } from './trace-writer.js';

export interface TraceExportRequest {
  processId: string;
  /** ns since the Unix epoch */
  begin: bigint;
  end: bigint;
}

export interface TraceExportOptions {
  /**
   * the time window one query reads (default 10 s): DuckDB sorts a window's rows before the first batch, so
   * the window, not the range, sets the query's memory (bench perfetto-export, 50 k spans/s, segments cached:
   * peak RSS of the exporting process 775 MiB with 1-minute windows, 385 MiB with 10 s ones, the same for 1
   * and 2 minutes of trace)
   */
  windowNs?: bigint;
  /** rows per streamed batch (default 16 384, rounded up by DuckDB to whole chunks of 2 048) */
  batchRows?: number;
  /** output gathered into pieces of about this many bytes before being handed out (default 1 MiB) */
  pieceBytes?: number;
  /** interned strings kept before the sequence's incremental state is cleared */
  internLimit?: number;
  signal?: AbortSignal;
}

/** The high-water marks of what one export held at once: the memory bound, observable. */
export interface TraceExportStats {
  windows: number;
  rows: number;
  bytes: number;
  /** most rows of one batch */
  maxBatchRows: number;
  /** most spans open (begun in the output, not yet ended) or waiting for a lane */
  maxOpenSpans: number;
  /** most output bytes held before being handed out */
  maxHeldBytes: number;
}

export class TraceExportError extends Error {
  override readonly name = 'TraceExportError';
  constructor(
    message: string,
    readonly status: 400 | 404,
  ) {
    super(message);
  }
}

export interface TraceExport {
  process: PerfettoProcess;
  threads: { stream_id: string; name: string }[];
  /** the pieces of the trace in order; their concatenation is the trace file */
  pieces(): AsyncGenerator<Uint8Array>;
  readonly stats: TraceExportStats;
}

type Engine = Pick<QueryEngine, 'query' | 'stream'>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const sqlString = (s: string): string => `'${s.replace(/'/g, "''")}'`;
const tsNs = (t: bigint): string => `make_timestamp_ns(${t}::BIGINT)`;

/**
 * Finds the process and its CPU streams (a bad id or an unknown process throws TraceExportError, before any
 * byte is produced) and returns the export, whose pieces are read lazily.
 */
export async function openTraceExport(engine: Engine, req: TraceExportRequest, opts: TraceExportOptions = {}): Promise<TraceExport> {
  const { processId, begin, end } = req;
  if (!UUID.test(processId)) throw new TraceExportError(`"${processId}" is not a process id (a UUID)`, 400);
  if (end <= begin) throw new TraceExportError(`the range is empty: end (${end}) is not after begin (${begin})`, 400);
  const range = { begin, end };
  const qopts = { signal: opts.signal };
  const pid = sqlString(processId);
  const procs = (await engine.query(`SELECT exe FROM processes WHERE process_id = ${pid}`, range, qopts)).table;
  if (procs.numRows === 0) throw new TraceExportError(`no process ${processId} in [${isoNs(begin)}, ${isoNs(end)})`, 404);
  const exe = String(procs.getChild('exe')!.get(0) ?? '');
  const streams = (
    await engine.query(
      `SELECT stream_id, coalesce(property_get(properties, 'thread_name'), 'thread') AS name FROM streams
       WHERE process_id = ${pid} AND list_contains(tags, 'cpu') ORDER BY insert_time, stream_id`,
      range,
      qopts,
    )
  ).table;
  const threads: { stream_id: string; name: string }[] = [];
  for (let i = 0; i < streams.numRows; i++) {
    threads.push({ stream_id: String(streams.getChild('stream_id')!.get(i)), name: String(streams.getChild('name')!.get(i)) });
  }
  // the windows only need to cover the process's blocks: a week-long range over an hour of data reads an hour
  const extent = (
    await engine.query(`SELECT epoch_ns(min(begin_time)) AS lo, epoch_ns(max(end_time)) AS hi FROM blocks WHERE process_id = ${pid}`, range, qopts)
  ).table;
  const lo = extent.getChild('lo')!.get(0) as bigint | null;
  const hi = extent.getChild('hi')!.get(0) as bigint | null;
  const from = lo !== null && lo > begin ? lo : begin;
  const to = hi !== null && hi + 1n < end ? hi + 1n : end;

  const process: PerfettoProcess = { process_id: processId, exe };
  const stats: TraceExportStats = { windows: 0, rows: 0, bytes: 0, maxBatchRows: 0, maxOpenSpans: 0, maxHeldBytes: 0 };
  const windowNs = opts.windowNs ?? 10_000_000_000n;
  if (windowNs <= 0n) throw new TraceExportError('the export window must be positive', 400);
  const pieceBytes = opts.pieceBytes ?? 1 << 20;

  async function* pieces(): AsyncGenerator<Uint8Array> {
    const writer = new PerfettoTraceWriter(process, threads.map((t) => t.name), { internLimit: opts.internLimit });
    let held: Uint8Array[] = [];
    let heldBytes = 0;
    const hold = (bytes: Uint8Array): void => {
      if (bytes.length === 0) return;
      held.push(bytes);
      heldBytes += bytes.length;
      if (heldBytes > stats.maxHeldBytes) stats.maxHeldBytes = heldBytes;
    };
    let lastRelease = performance.now();
    const release = (): Uint8Array => {
      lastRelease = performance.now();
      const out = concat(held, heldBytes);
      held = [];
      heldBytes = 0;
      stats.bytes += out.length;
      return out;
    };
    hold(writer.cut(from));
    for (let wb = from; lo !== null && wb < to; wb += windowNs) {
      const we = wb + windowNs < to ? wb + windowNs : to;
      const stream = await engine.stream(windowSql(threads, processId, wb, we), { begin: wb, end: we }, {
        signal: opts.signal,
        batchRows: opts.batchRows ?? 16_384,
      });
      stats.windows++;
      try {
        for (let batch = await stream.next(); batch; batch = await stream.next()) {
          const last = addBatch(writer, batch);
          stats.rows += batch.numRows;
          if (batch.numRows > stats.maxBatchRows) stats.maxBatchRows = batch.numRows;
          if (writer.openSpans > stats.maxOpenSpans) stats.maxOpenSpans = writer.openSpans;
          if (last !== undefined) hold(writer.cut(last));
          if (heldBytes >= pieceBytes) yield release();
        }
      } finally {
        await stream.close();
      }
      // nothing later than this window can precede its end
      hold(writer.cut(we));
      // a sparse trace still shows progress: what a window produced leaves within about a second
      if (heldBytes >= pieceBytes || (heldBytes > 0 && performance.now() - lastRelease >= 1000)) yield release();
    }
    hold(writer.finish());
    yield release();
  }

  return { process, threads, pieces, stats };
}

/**
 * One window's rows, thread spans (by begin) and async events (by time) in one time order, outer slices
 * first on ties. Explicit bounds on the begin/time columns keep each span in exactly one window whatever
 * rows the views return for the window's range.
 */
function windowSql(threads: readonly { stream_id: string }[], processId: string, begin: bigint, end: bigint): string {
  const parts = threads.map(
    (t, i) => `SELECT 0 AS kind, ${i} AS track, epoch_ns("begin") AS ts, epoch_ns("end") AS end_ts, depth::INTEGER AS depth,
       name, target, filename, line::INTEGER AS line, NULL::VARCHAR AS event_type, NULL::BIGINT AS span_id, NULL::BIGINT AS parent_span_id
     FROM view_instance('thread_spans', ${sqlString(t.stream_id)}) WHERE "begin" >= ${tsNs(begin)} AND "begin" < ${tsNs(end)}`,
  );
  parts.push(`SELECT 1, -1, epoch_ns(time), NULL::BIGINT, depth::INTEGER, name, target, filename, line::INTEGER, event_type, span_id, parent_span_id
     FROM view_instance('async_events', ${sqlString(processId)}) WHERE time >= ${tsNs(begin)} AND time < ${tsNs(end)}`);
  return `${parts.join('\nUNION ALL\n')}\nORDER BY ts, kind, depth, end_ts DESC`;
}

/** Feeds a batch to the writer; returns the time of its last row (every later row is at or after it). */
function addBatch(writer: PerfettoTraceWriter, batch: RecordBatch): bigint | undefined {
  const col = (name: string) => batch.getChild(name)!;
  const kind = col('kind').toArray() as Int32Array;
  const track = col('track').toArray() as Int32Array;
  const ts = col('ts').toArray() as BigInt64Array;
  const endTs = col('end_ts');
  const depth = col('depth').toArray() as Int32Array;
  const name = col('name');
  const target = col('target');
  const filename = col('filename');
  const line = col('line');
  const eventType = col('event_type');
  const spanId = col('span_id');
  const parentId = col('parent_span_id');
  const n = batch.numRows;
  for (let i = 0; i < n; i++) {
    const info = {
      name: (name.get(i) as string | null) ?? '',
      target: (target.get(i) as string | null) ?? '',
      filename: (filename.get(i) as string | null) ?? '',
      line: (line.get(i) as number | null) ?? 0,
    };
    if (kind[i] === 0) writer.threadSpan(track[i]!, ts[i]!, endTs.get(i) as bigint, depth[i]!, info);
    else writer.asyncEvent(ts[i]!, eventType.get(i) as string, spanId.get(i) as bigint, (parentId.get(i) as bigint | null) ?? 0n, depth[i]!, info);
  }
  return n > 0 ? ts[n - 1] : undefined;
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function isoNs(t: bigint): string {
  const ms = t / 1_000_000n;
  return Math.abs(Number(ms)) < 8.64e15 ? new Date(Number(ms)).toISOString() : `${t} ns`;
}
