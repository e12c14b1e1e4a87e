/**
 * `POST /api/query`: SQL over a time range, answered as an Arrow IPC stream (`Accept:
 * application/vnd.apache.arrow.stream`) or JSON `{ columns, rows, stats }`.
 * The lead mounts the returned sub-app at `/api`.
 *
 * Request: `{ "sql": "...", "begin": "2024-05-01T00:00:00Z" | "1h", "end": "2024-05-01T01:00:00Z" | "now" }`.
 * Errors: `{ error, code, position? }` — 400 for bad SQL or input, 408 past the time budget, 413 for an
 * oversized body or result, 503 when too many queries wait or when the metadata database or object store is
 * unavailable (code "unavailable", with Retry-After and no internals). Messages carry no absolute file paths.
 *
 * @example
 *   curl -s localhost:9000/api/query -H 'content-type: application/json' \
 *     -d '{"sql":"SELECT level, count(*) AS n FROM log_entries GROUP BY level","begin":"1h","end":"now"}'
 */
import { Hono } from 'hono';
import { BUSY_RETRY_AFTER_SECONDS, QueryError } from '../analytics/query-error.js';
import type { QueryEngine, QueryStats } from '../analytics/query-engine.js';
import { jsonRowChunks } from './result-json.js';
import { ipcStreamParts, tableToIpcMessages } from './flight-sql/ipc-messages.js';
import { HttpError } from '../ingestion/http-error.js';
import { readBody } from '../ingestion/read-body.js';
import { findUnavailable, RETRY_AFTER_SECONDS, type UnavailableError } from '../lake/unavailable.js';
import { redactPaths } from '../redact-paths.js';

export const ARROW_STREAM = 'application/vnd.apache.arrow.stream';
/** at most this many file names go into the stats header (the count is always exact) */
const HEADER_FILES = 50;

export interface QueryRoutesOptions {
  engine: QueryEngine;
  /** largest request body, bytes (default 1 MiB) */
  maxBodyBytes?: number;
}

const STATUS: Record<QueryError['code'], 400 | 408 | 413 | 500 | 503> = {
  sql: 400,
  bad_request: 400,
  timeout: 408,
  too_large: 413,
  busy: 503,
  unavailable: 503,
  internal: 500,
};

export function createQueryRoutes(opts: QueryRoutesOptions): Hono {
  const app = new Hono();
  const maxBody = opts.maxBodyBytes ?? 1024 * 1024;
  app.post('/query', async (c) => {
    const unavailable = (down: UnavailableError) =>
      c.json({ error: down.message, code: 'unavailable' }, 503, { 'Retry-After': String(down.retryAfterSeconds) });
    const fail = (err: QueryError) => {
      // the engine wraps a lake outage (cause chain) as a view or SQL error; it is neither
      const down = findUnavailable(err);
      if (down) return unavailable(down);
      const position = err.position !== undefined ? { position: err.position } : {};
      // every 503 says when to come back
      const wait = err.code === 'busy' ? BUSY_RETRY_AFTER_SECONDS : err.code === 'unavailable' ? RETRY_AFTER_SECONDS : undefined;
      const retry = wait === undefined ? undefined : { 'Retry-After': String(wait) };
      return c.json({ error: redactPaths(err.message), code: err.code, ...position }, STATUS[err.code], retry);
    };
    let body: unknown;
    try {
      // capped while reading: a chunked body has no length to check first
      const bytes = await readBody(c.req.raw, maxBody);
      body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch (err) {
      if (err instanceof HttpError && err.status === 413) {
        // the rest of the body is never read: the connection cannot carry another request
        return c.json({ error: `request body larger than ${maxBody} bytes`, code: 'too_large' }, 413, { Connection: 'close' });
      }
      return fail(new QueryError('bad_request', 'the body must be JSON: { "sql": "...", "begin": "...", "end": "..." }'));
    }
    const { sql, begin, end } = (body ?? {}) as Record<string, unknown>;
    if (typeof sql !== 'string') return fail(new QueryError('bad_request', '"sql" must be a string'));
    if (typeof begin !== 'string' && typeof begin !== 'number') {
      return fail(new QueryError('bad_request', '"begin" is required: an ISO-8601 time or a duration back from now such as "1h"'));
    }
    if (end !== undefined && typeof end !== 'string' && typeof end !== 'number') {
      return fail(new QueryError('bad_request', '"end" must be an ISO-8601 time or "now"'));
    }
    const controller = new AbortController();
    const rawReq = c.req.raw;
    rawReq.signal?.addEventListener('abort', () => controller.abort(), { once: true });
    try {
      const out = await opts.engine.query(sql, { begin, end: end ?? 'now' }, { signal: controller.signal });
      // header values are bytes (Latin-1): characters beyond ASCII (a view instance named in the SQL) as \u escapes
      const statsHeader = JSON.stringify(headerStats(out.stats)).replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
      // both encodings are made batch by batch as the client reads: no second copy of the whole result
      if ((c.req.header('accept') ?? '').includes(ARROW_STREAM)) {
        const parts = ipcStreamParts(tableToIpcMessages(out.table));
        return c.body(pulled(parts), 200, { 'content-type': ARROW_STREAM, 'x-sirius-query-stats': statsHeader });
      }
      const columns = out.table.schema.fields.map((f, i) => ({ name: f.name, type: out.sqlTypes[i] ?? String(f.type) }));
      const json = (function* () {
        yield `{"columns":${JSON.stringify(columns)},"rows":`;
        yield* jsonRowChunks(out.table);
        yield `,"stats":${JSON.stringify(out.stats)}}`;
      })();
      return c.body(pulled(json), 200, { 'content-type': 'application/json; charset=utf-8', 'x-sirius-query-stats': statsHeader });
    } catch (err) {
      if (err instanceof QueryError) return fail(err);
      const down = findUnavailable(err);
      if (down) return unavailable(down);
      throw err;
    }
  });
  return app;
}

/** A body that makes its next piece only when the client has taken the previous one. */
function pulled(pieces: Iterator<string | Uint8Array>): ReadableStream<Uint8Array> {
  const utf8 = new TextEncoder();
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const next = pieces.next();
        if (next.done) controller.close();
        else controller.enqueue(typeof next.value === 'string' ? utf8.encode(next.value) : next.value);
      },
    },
    { highWaterMark: 1 },
  );
}

function headerStats(stats: QueryStats): QueryStats & { filesTruncated?: boolean } {
  if (stats.files.length <= HEADER_FILES) return stats;
  return { ...stats, files: stats.files.slice(0, HEADER_FILES), filesTruncated: true };
}

export { createAnalytics } from './create-analytics.js';
export type { Analytics, CreateAnalyticsOptions } from './create-analytics.js';
