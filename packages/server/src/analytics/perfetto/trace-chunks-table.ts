/**
 * `perfetto_trace_chunks(process_id, begin, end)`: the Perfetto export as rows (chunk_id INTEGER,
 * chunk_payload BLOB) for clients that only speak SQL; the payloads concatenated in chunk_id order are the
 * trace file `GET /api/perfetto/:process_id` sends. The engine fills a table local to the query's DuckDB
 * instance piece by piece (DuckDB spills it past its memory limit), so the server's JavaScript heap holds
 * one piece at a time.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { parseTimeArg, TimeArgError } from '@sirius/client/time-arg';
import type { QueryEngine } from '../query-engine.js';
import { QueryError } from '../query-error.js';
import type { TraceChunksRef } from '../sql-scan.js';
import { openTraceExport, TraceExportError } from './trace-export.js';

export const TRACE_CHUNKS_COLUMNS = 'chunk_id INTEGER, chunk_payload BLOB';

/** Creates the call's table; unless `describeOnly`, fills it with the trace's pieces. */
export async function loadTraceChunks(
  conn: DuckDBConnection,
  ref: TraceChunksRef,
  engine: Pick<QueryEngine, 'query' | 'stream'>,
  opts: { signal?: AbortSignal; describeOnly?: boolean } = {},
): Promise<void> {
  const table = `"${ref.alias.replace(/"/g, '""')}"`;
  await conn.run(`CREATE OR REPLACE TEMP TABLE ${table} (${TRACE_CHUNKS_COLUMNS})`);
  if (opts.describeOnly) return;
  let begin: bigint;
  let end: bigint;
  try {
    const now = Date.now();
    begin = parseTimeArg(ref.begin, now);
    end = parseTimeArg(ref.end, now);
  } catch (err) {
    if (err instanceof TimeArgError) throw new QueryError('bad_request', `perfetto_trace_chunks: ${err.message}`);
    throw err;
  }
  let exp;
  try {
    exp = await openTraceExport(engine, { processId: ref.processId, begin, end }, { signal: opts.signal });
  } catch (err) {
    if (err instanceof TraceExportError) throw new QueryError('bad_request', `perfetto_trace_chunks: ${err.message}`);
    throw err;
  }
  const appender = await conn.createAppender(ref.alias, 'main', 'temp');
  try {
    let id = 0;
    for await (const piece of exp.pieces()) {
      appender.appendInteger(id++);
      appender.appendBlob(piece);
      appender.endRow();
      // rows leave the appender's buffer for the table, which DuckDB manages (and spills)
      appender.flushSync();
    }
  } finally {
    appender.closeSync();
  }
}
