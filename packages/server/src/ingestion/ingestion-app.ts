/**
 * The ingestion HTTP routes, mounted at `/ingestion`:
 *   POST /insert_process  JSON ProcessInfo      → 200 { inserted: boolean }
 *   POST /insert_stream   JSON StreamInfo       → 200 { inserted: boolean } (404 when the process is unknown)
 *   POST /insert_block    binary block envelope → 200 { block_id }          (404 when the stream is unknown)
 * Bad input answers 400 `{ "error": "<field>: reason" }` (every field is checked to fit PostgreSQL before any
 * write), a body over the limit 413, and nothing is written then. Every insert is idempotent, so clients
 * simply retry on failure; a block id already stored with other bytes or for another stream answers 409.
 *
 * And OpenTelemetry's, mounted at `/v1` and also served here as `/otlp/v1/…` (otlp-logs.ts):
 *   POST /logs            OTLP/HTTP ExportLogsServiceRequest, protobuf or JSON   → 200 {}
 *   POST /traces          OTLP/HTTP ExportTraceServiceRequest (spans kept whole and as async spans) → 200 {}
 *   POST /metrics         OTLP/HTTP ExportMetricsServiceRequest (points as measures) → 200 {}
 * A request is stored whole or not at all, as one block per service instance; malformed answers 400, more than
 * 1,000 resources or 100,000 events 413, more than 64 distinct instances 400; a re-sent request stores nothing
 * twice (otlp-store.ts, otlp-common.ts). `Content-Encoding: gzip | deflate` is inflated, capped at the body
 * limit (413 beyond it); any other encoding 415 (otlp-body.ts).
 *
 * Before any of that, on every route: CORS for the allowed page origins (cors.ts: 403 for other origins),
 * the per-address rate limit, the API key, the per-key rate limit (rate-limit.ts: 429 + Retry-After).
 */
import { Hono, type Context } from 'hono';
import { otlpLogsToSirius } from './otlp-logs.js';
import { otlpTracesToSirius } from './otlp-traces.js';
import { otlpMetricsToSirius } from './otlp-metrics.js';
import type { OtlpLimits } from './otlp-common.js';
import type { OtlpSignal } from './otlp-protobuf.js';
import { convertOtlpRequest, otlpEncoding, storeOtlp, type OtlpConverter } from './otlp-store.js';
import { validateProcessInfo, validateStreamInfo, TransitError } from '@sirius/transit';
import type { Lake } from '../lake/lake.js';
import { BlockBatcher } from '../lake/block-batcher.js';
import { insertProcess, getProcess } from '../lake/process-repository.js';
import { insertStream } from '../lake/stream-repository.js';
import { requireApiKey } from './api-keys.js';
import { ingestionCors } from './cors.js';
import { DEFAULT_INGESTION_RATE_LIMITS, limitByClient, limitByKey, TokenBuckets, type IngestionRateLimits } from './rate-limit.js';
import type { KeyGate } from '../auth/key-gate.js';
import { ingestBlock } from './block-ingestor.js';
import { blockIngested, traced } from '../self-telemetry.js';
import { HttpError } from './http-error.js';
import { readBody, readJson } from './read-body.js';
import { readOtlpBody } from './otlp-body.js';
import { StreamCache } from './stream-cache.js';
import { findUnavailable, RETRY_AFTER_SECONDS } from '../lake/unavailable.js';

export interface IngestionOptions {
  /** largest accepted block envelope, bytes */
  maxBlockBytes: number;
  /** which API keys pass (auth/key-gate.ts) */
  keys: KeyGate;
  /** OTLP requests' limits (otlp-common.ts: 1,000 resources, 64 distinct ones, 100,000 events) */
  otlpLimits?: OtlpLimits;
  /** page origins allowed to send (CORS), `*` for any; default none */
  origins?: readonly string[];
  /** request rate limits; default {@link DEFAULT_INGESTION_RATE_LIMITS} */
  rateLimits?: IngestionRateLimits;
  /** reports unexpected (500) errors */
  onError?: (err: unknown) => void;
}

/** process and stream descriptions are small; this bounds what a client can make us parse */
const MAX_JSON_BYTES = 1024 * 1024;

export interface IngestionService {
  app: Hono;
  /** OTLP/HTTP routes (`/logs`), to mount at `/v1` */
  otlp: Hono;
  /** flushes pending block rows; call before closing the lake */
  close(): Promise<void>;
}

export function createIngestionService(lake: Lake, opts: IngestionOptions): IngestionService {
  const batcher = new BlockBatcher(lake.sql);
  const streams = new StreamCache(lake.sql);
  // the payload cannot be larger than what the envelope may expand to
  const limits = { maxPayloadBytes: Math.max(64 * 1024 * 1024, opts.maxBlockBytes * 4) };
  const app = new Hono();
  const rates = opts.rateLimits ?? DEFAULT_INGESTION_RATE_LIMITS;
  // one set of buckets for both mounts: /v1 and /ingestion share a client's allowance
  const clientBuckets = new TokenBuckets({ rate: rates.clientRate, burst: rates.clientBurst });
  const keyBuckets = new TokenBuckets({ rate: rates.keyRate, burst: rates.keyBurst });
  const gates = (to: Hono) => {
    to.use('*', ingestionCors(opts.origins ?? []));
    to.use('*', limitByClient(clientBuckets));
    to.use('*', requireApiKey(opts.keys));
    to.use('*', limitByKey(keyBuckets));
  };
  gates(app);

  app.post('/insert_process', async (c) => {
    const info = validated(validateProcessInfo, await readJson(c.req.raw, MAX_JSON_BYTES));
    return c.json({ inserted: await insertProcess(lake.sql, info) });
  });

  app.post('/insert_stream', async (c) => {
    const info = validated(validateStreamInfo, await readJson(c.req.raw, MAX_JSON_BYTES));
    if (!(await getProcess(lake.sql, info.process_id))) {
      throw new HttpError(404, `unknown process ${info.process_id}: send insert_process before its streams`);
    }
    const inserted = await insertStream(lake.sql, info);
    // an id already present may belong to another process: let the cache ask the database then
    if (inserted) streams.remember(info.stream_id, info.process_id);
    return c.json({ inserted });
  });

  app.post('/insert_block', async (c) => {
    const started = performance.now();
    const envelope = await readBody(c.req.raw, opts.maxBlockBytes);
    const answer = await traced('insert_block', () => ingestBlock({ objects: lake.objects, batcher, streams, limits }, envelope));
    blockIngested(performance.now() - started, envelope.byteLength);
    return c.json(answer);
  });

  const onError = (err: Error, c: Context) => {
    if (err instanceof HttpError) {
      const headers: Record<string, string> =
        err.status === 413 ? { Connection: 'close' } : err.status === 503 ? { 'Retry-After': String(RETRY_AFTER_SECONDS) } : {};
      return c.json({ error: err.reason }, err.status, headers);
    }
    const down = findUnavailable(err);
    if (down) {
      // the cause names hosts and paths: the log gets it, the client a fixed sentence and when to retry
      opts.onError?.(err);
      return c.json({ error: down.message }, 503, { 'Retry-After': String(down.retryAfterSeconds) });
    }
    opts.onError?.(err);
    return c.json({ error: 'internal error' }, 500);
  };
  app.onError(onError);

  const otlp = new Hono();
  gates(otlp);
  const otlpRoute = (signal: OtlpSignal, convert: OtlpConverter) => {
    const handler = async (c: Context) => {
      const encoding = otlpEncoding(signal, c.req.header('content-type') ?? '');
      // gzip or deflate inflated with the same cap as the body (otlp-body.ts); then all or nothing (otlp-store.ts)
      const bytes = await readOtlpBody(c.req.raw, opts.maxBlockBytes);
      const data = convertOtlpRequest(signal, bytes, encoding, convert, limits, opts.otlpLimits);
      await storeOtlp(lake.sql, { objects: lake.objects, batcher, streams, limits }, data);
      // an empty Export…ServiceResponse, in the request's encoding (as protobuf: no bytes at all)
      return encoding === 'protobuf' ? c.body(null, 200, { 'content-type': 'application/x-protobuf' }) : c.json({});
    };
    otlp.post(`/${signal}`, handler);
    // the seed system's paths, under /ingestion (same key check, same error answers)
    app.post(`/otlp/v1/${signal}`, handler);
  };
  otlpRoute('logs', otlpLogsToSirius);
  otlpRoute('traces', otlpTracesToSirius);
  otlpRoute('metrics', otlpMetricsToSirius);
  otlp.onError(onError);

  return { app, otlp, close: () => batcher.close() };
}

function validated<T>(validate: (v: unknown) => T, value: unknown): T {
  try {
    return validate(value);
  } catch (err) {
    if (err instanceof TransitError || err instanceof TypeError || err instanceof RangeError) {
      throw new HttpError(400, err.message);
    }
    throw err;
  }
}
