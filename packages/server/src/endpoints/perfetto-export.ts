/**
 * `GET /api/perfetto/:process_id?begin=…&end=…`: one process's CPU traces over a time range as a Perfetto
 * trace file (open it at ui.perfetto.dev or in trace_processor). Each `cpu` stream becomes a thread track
 * from `view_instance('thread_spans', stream)`, async spans come from `view_instance('async_events', process)`.
 *
 * The body is streamed (analytics/perfetto/trace-export.ts): the range is decoded window by window and
 * written as it goes, so memory stays bounded and the first bytes leave before the range is decoded. Bad
 * input, an unknown process, or a failure before the first bytes get a 4xx/5xx with a reason; a failure
 * after them aborts the response (the chunked body never ends properly, so every reader sees it) and is logged.
 *
 * @example
 *   curl -fo game.perfetto-trace "localhost:9000/api/perfetto/<process_id>?begin=5m&end=now"
 */
import { Hono } from 'hono';
import { parseTimeArg, TimeArgError } from '@sirius/client/time-arg';
import { openTraceExport, TraceExportError, type TraceExport, type TraceExportOptions } from '../analytics/perfetto/trace-export.js';
import type { QueryEngine } from '../analytics/query-engine.js';
import { BUSY_RETRY_AFTER_SECONDS, QueryError } from '../analytics/query-error.js';
import { findUnavailable } from '../lake/unavailable.js';
import { redactPaths } from '../redact-paths.js';
import { createLog, type Log } from '../log.js';

export interface PerfettoRoutesDeps {
  engine: QueryEngine;
  /** window, batch and piece sizes of the streamed export (default: `exportOptionsFromEnv()`) */
  exportOptions?: Omit<TraceExportOptions, 'signal'>;
  log?: Log;
  /** no info lines (errors still go to the log) */
  quiet?: boolean;
}

/**
 * `SIRIUS_PERFETTO_WINDOW_MS` (time window per query, default 10 000), `SIRIUS_PERFETTO_BATCH_ROWS` (rows per
 * streamed batch, default 16 384) and `SIRIUS_PERFETTO_PIECE_BYTES` (bytes gathered per write, default 1 MiB).
 */
export function exportOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): Omit<TraceExportOptions, 'signal'> {
  const int = (name: string): number | undefined => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name}=${v}: want a positive integer`);
    return n;
  };
  const windowMs = int('SIRIUS_PERFETTO_WINDOW_MS');
  return {
    windowNs: windowMs === undefined ? undefined : BigInt(windowMs) * 1_000_000n,
    batchRows: int('SIRIUS_PERFETTO_BATCH_ROWS'),
    pieceBytes: int('SIRIUS_PERFETTO_PIECE_BYTES'),
  };
}

export function createPerfettoRoutes(deps: PerfettoRoutesDeps): Hono {
  const app = new Hono();
  const log = deps.log ?? createLog('perfetto', deps.quiet);
  const exportOptions = deps.exportOptions ?? exportOptionsFromEnv();
  app.get('/perfetto/:process_id', async (c) => {
    const processId = c.req.param('process_id');
    let begin: bigint;
    let end: bigint;
    try {
      const now = Date.now();
      begin = parseTimeArg(c.req.query('begin') ?? '1h', now);
      end = parseTimeArg(c.req.query('end') ?? 'now', now);
    } catch (err) {
      if (err instanceof TimeArgError) return c.json({ error: err.message }, 400);
      throw err;
    }
    const abort = new AbortController();
    let pieces: AsyncGenerator<Uint8Array> | undefined;
    let first: IteratorResult<Uint8Array> | undefined;
    let exp: TraceExport;
    try {
      exp = await openTraceExport(deps.engine, { processId, begin, end }, { ...exportOptions, signal: abort.signal });
      pieces = exp.pieces();
      // the first piece before the status: what fails this early still gets a status and a reason
      first = await pieces.next();
    } catch (err) {
      await pieces?.return(undefined).catch(() => undefined);
      const answer = errorAnswer(err);
      if (answer === undefined) throw err;
      return c.json({ error: answer.error }, answer.status, answer.headers);
    }
    const it = pieces;
    let pending: IteratorResult<Uint8Array> | undefined = first;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const r = pending ?? (await it.next());
          pending = undefined;
          if (r.done) {
            controller.close();
            // what the export held at most, next to what it wrote: the memory bound, visible in the log
            log.info(`exported process ${processId}: ${JSON.stringify(exp.stats)}`);
          }
          else controller.enqueue(r.value);
        } catch (err) {
          log.error(`export of process ${processId} failed after the first bytes; the response is aborted`, err);
          controller.error(err);
        }
      },
      async cancel() {
        // the client went away: stop the window query and release what the export holds
        abort.abort();
        await it.return(undefined).catch(() => undefined);
      },
    }, { highWaterMark: 0 });
    return new Response(body, {
      status: 200,
      headers: {
        'content-type': 'application/octet-stream',
        'content-disposition': `attachment; filename="${processId}.perfetto-trace"`,
        'cache-control': 'no-store',
      },
    });
  });
  return app;
}

function errorAnswer(err: unknown): { status: 400 | 404 | 503; error: string; headers?: Record<string, string> } | undefined {
  if (err instanceof TraceExportError) return { status: err.status, error: err.message };
  // a lake outage reaches here wrapped in a QueryError (its cause); it is not the client's fault
  const down = findUnavailable(err);
  if (down) return { status: 503, error: down.message, headers: { 'Retry-After': String(down.retryAfterSeconds) } };
  if (err instanceof QueryError && err.code === 'busy') {
    return { status: 503, error: err.message, headers: { 'Retry-After': String(BUSY_RETRY_AFTER_SECONDS) } };
  }
  if (err instanceof QueryError) return { status: 400, error: redactPaths(err.message) };
  return undefined;
}
