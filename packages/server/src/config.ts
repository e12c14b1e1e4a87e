/**
 * `ServeOptions` → a complete configuration: an option given in code wins, then the environment, then the
 * defaults of ARCHITECTURE.md. The CLI's help text lists exactly the variables read here.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseKeyList } from './ingestion/api-keys.js';
import { parseOriginList } from './ingestion/cors.js';
import { DEFAULT_INGESTION_RATE_LIMITS, type IngestionRateLimits } from './ingestion/rate-limit.js';
import type { QueryLimits } from './analytics/query-engine.js';

export const ROLES = ['ingestion', 'daemon', 'analytics', 'web'] as const;
export type Role = (typeof ROLES)[number];

export interface ServeOptions {
  /** roles to run in this process (default: all) */
  roles?: Role[];
  /** interface to listen on (default 127.0.0.1) */
  host?: string;
  /** HTTP port (default 9000); 0 picks a free port */
  httpPort?: number;
  /**
   * Arrow Flight SQL (gRPC) port, served by the analytics role; 0 picks a free port. Off when absent or null
   * in code, so tests and embedders open only what they ask for; `sirius serve` defaults it to 50051.
   */
  flightPort?: number | null;
  /** PostgreSQL wire-protocol port, served by the analytics role; like `flightPort`, `sirius serve` defaults it to 8432 */
  pgPort?: number | null;
  /** default SIRIUS_DATA_DIR, else ./.sirius */
  dataDir?: string;
  /** default SIRIUS_SQL_CONNECTION_STRING, else PGlite under the data dir; `memory://` = in-memory PGlite */
  sqlConnectionString?: string;
  /** default SIRIUS_OBJECT_STORE_URI, else file://<dataDir>/objects */
  objectStoreUri?: string;
  /** default SIRIUS_INGESTION_KEYS (comma-separated); empty = no authentication */
  ingestionKeys?: string[];
  /** default SIRIUS_QUERY_KEYS (comma-separated): keys for `/api`, Flight SQL and the PostgreSQL gateway; empty = open */
  queryKeys?: string[];
  /** default SIRIUS_INGESTION_ORIGINS (comma-separated): web page origins allowed to send (CORS), `*` = any; empty = none */
  ingestionOrigins?: string[];
  /** ingestion requests per second per client address and per key (each defaults to its SIRIUS_INGESTION_* variable) */
  ingestionRateLimits?: Partial<IngestionRateLimits>;
  /** largest accepted block envelope in bytes (default 16 MiB) */
  maxBlockBytes?: number;
  /**
   * default SIRIUS_LAKE_TIMEOUT_MS, else 15 000: how long a call to the metadata database (connect, or one
   * statement) or to S3 may take before the request answers 503 + Retry-After instead of hanging
   */
  lakeTimeoutMs?: number;
  /**
   * how long data is kept, e.g. '90d', or 'off' (default SIRIUS_RETENTION, else forever; `sirius serve`
   * defaults it to 90d); applied by the daemon role
   */
  retention?: string;
  /** bounds on each query (each defaults to its SIRIUS_QUERY_* variable, else the engine's default) */
  queryLimits?: ServeQueryLimits;
  /** how long `close()` lets requests in flight finish before cutting them (default SIRIUS_SHUTDOWN_GRACE_MS, else 10 s) */
  shutdownGraceMs?: number;
  /** where the server records its own telemetry: a URL, or '1' for itself (default SIRIUS_SELF_TELEMETRY, else off) */
  selfTelemetry?: string;
  /** no startup line or info logs */
  quiet?: boolean;
  /** the built web app served by the `web` role (default packages/web/dist) */
  webDistDir?: string;
  /** bounds on clients, so that hostile or broken ones cannot hold the server's connections (see `ClientLimits`) */
  limits?: Partial<ClientLimits>;
}

/**
 * What a client may hold before it is cut off. The PostgreSQL gateway refuses connections over its bounds
 * with SQLSTATE 53300 and closes clients that have not authenticated in time; the HTTP server answers 408 to
 * requests whose headers or whole request are too slow and drops connections over its bound.
 */
export interface ClientLimits {
  /** default SIRIUS_PG_MAX_CONNECTIONS, else 256 */
  pgMaxConnections: number;
  /** default SIRIUS_PG_MAX_CONNECTIONS_PER_ADDRESS, else 32 */
  pgMaxConnectionsPerAddress: number;
  /** startup and authentication must finish within this (default SIRIUS_PG_AUTH_TIMEOUT_MS, else 10 s) */
  pgAuthTimeoutMs: number;
  /** a request's headers must arrive within this (default SIRIUS_HTTP_HEADERS_TIMEOUT_MS, else 10 s) */
  httpHeadersTimeoutMs: number;
  /** a whole request, body included, must arrive within this (default SIRIUS_HTTP_REQUEST_TIMEOUT_MS, else 120 s) */
  httpRequestTimeoutMs: number;
  /** connections open at once; more are closed on arrival (default SIRIUS_HTTP_MAX_CONNECTIONS, else 4096) */
  httpMaxConnections: number;
}

/** The query limits settable per server (the engine has more, see `QueryLimits`). */
export type ServeQueryLimits = Pick<QueryLimits, 'timeoutMs' | 'memoryLimit' | 'maxRows' | 'maxResultBytes'>;

export interface ServeConfig {
  roles: Role[];
  host: string;
  httpPort: number;
  flightPort: number | null;
  pgPort: number | null;
  dataDir: string;
  sqlConnectionString: string | undefined;
  objectStoreUri: string;
  ingestionKeys: string[];
  queryKeys: string[];
  ingestionOrigins: string[];
  ingestionRateLimits: IngestionRateLimits;
  maxBlockBytes: number;
  lakeTimeoutMs: number;
  retention: string | undefined;
  /** `retention` in nanoseconds, undefined = keep forever */
  retentionNs: bigint | undefined;
  queryLimits: ServeQueryLimits;
  shutdownGraceMs: number;
  /** undefined: off; 'self': this server's own lake; else the URL of a Sirius server */
  selfTelemetry: string | undefined;
  quiet: boolean;
  webDistDir: string | undefined;
  limits: ClientLimits;
}

export const DEFAULT_HTTP_PORT = 9000;
export const DEFAULT_FLIGHT_PORT = 50051;
export const DEFAULT_PG_PORT = 8432;
export const DEFAULT_MAX_BLOCK_BYTES = 16 * 1024 * 1024;
export const DEFAULT_CLIENT_LIMITS: ClientLimits = {
  pgMaxConnections: 256,
  pgMaxConnectionsPerAddress: 32,
  pgAuthTimeoutMs: 10_000,
  httpHeadersTimeoutMs: 10_000,
  // a block of the default largest size (16 MiB) still arrives in time over a ~140 KB/s link
  httpRequestTimeoutMs: 120_000,
  httpMaxConnections: 4096,
};
export const DEFAULT_LAKE_TIMEOUT_MS = 15_000;
/** what `sirius serve` keeps when neither --retention nor SIRIUS_RETENTION says (as the seed system) */
export const DEFAULT_RETENTION = '90d';
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

/** Environment variables read by `sirius serve`, with what they set (the CLI help prints this list). */
export const SERVE_ENV_VARS: ReadonlyArray<[string, string]> = [
  ['SIRIUS_DATA_DIR', 'data folder (default ./.sirius)'],
  ['SIRIUS_SQL_CONNECTION_STRING', 'postgres://… metadata database (default: embedded PGlite in <data dir>/pglite)'],
  ['SIRIUS_OBJECT_STORE_URI', 'file:///path, s3://bucket/prefix or memory:// (default file://<data dir>/objects)'],
  ['SIRIUS_INGESTION_KEYS', 'comma-separated API keys; when set, /ingestion/* requires Authorization: Bearer <key>'],
  ['SIRIUS_QUERY_KEYS', 'comma-separated API keys; when set, /api/* requires Authorization: Bearer <key>, Flight SQL a bearer or basic password, the PostgreSQL gateway a password (the web app asks for one)'],
  ['SIRIUS_INGESTION_ORIGINS', 'as --ingestion-origins: comma-separated web page origins (scheme://host[:port]) allowed to send telemetry from a browser, or * for any (default: none; programs that send no Origin are not affected)'],
  ['SIRIUS_INGESTION_CLIENT_RATE, SIRIUS_INGESTION_CLIENT_BURST', `as --ingestion-client-rate, --ingestion-client-burst: ingestion requests per second from one address, and at once (default ${DEFAULT_INGESTION_RATE_LIMITS.clientRate}, ${DEFAULT_INGESTION_RATE_LIMITS.clientBurst}; rate 0 = no limit); over it: 429 with Retry-After`],
  ['SIRIUS_INGESTION_KEY_RATE, SIRIUS_INGESTION_KEY_BURST', `as --ingestion-key-rate, --ingestion-key-burst: the same per API key (default ${DEFAULT_INGESTION_RATE_LIMITS.keyRate}, ${DEFAULT_INGESTION_RATE_LIMITS.keyBurst})`],
  ['SIRIUS_PG_MAX_CONNECTIONS', `PostgreSQL gateway connections open at once; more are refused with SQLSTATE 53300 (default ${DEFAULT_CLIENT_LIMITS.pgMaxConnections})`],
  ['SIRIUS_PG_MAX_CONNECTIONS_PER_ADDRESS', `the same, from one client address (default ${DEFAULT_CLIENT_LIMITS.pgMaxConnectionsPerAddress})`],
  ['SIRIUS_PG_AUTH_TIMEOUT_MS', `PostgreSQL gateway clients must finish startup and authentication within this many ms (default ${DEFAULT_CLIENT_LIMITS.pgAuthTimeoutMs})`],
  ['SIRIUS_HTTP_HEADERS_TIMEOUT_MS', `HTTP request headers must arrive within this many ms, else 408 (default ${DEFAULT_CLIENT_LIMITS.httpHeadersTimeoutMs})`],
  ['SIRIUS_HTTP_REQUEST_TIMEOUT_MS', `a whole HTTP request, body included, must arrive within this many ms, else 408 (default ${DEFAULT_CLIENT_LIMITS.httpRequestTimeoutMs}; raise it for large blocks over slow links)`],
  ['SIRIUS_HTTP_MAX_CONNECTIONS', `HTTP connections open at once; more are closed on arrival (default ${DEFAULT_CLIENT_LIMITS.httpMaxConnections})`],
  ['AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION (or AWS_DEFAULT_REGION)', 'credentials and region for s3:// stores'],
  ['AWS_ENDPOINT_URL', 'S3-compatible server for s3:// stores (path-style addressing)'],
  ['SIRIUS_LAKE_TIMEOUT_MS', 'ms a PostgreSQL connect or statement, or an S3 call, may take before the request answers 503 (default 15000)'],
  ['SIRIUS_DEFAULT_QUERY_RANGE', 'how far back a query reads when neither the caller nor its own predicates on time bound it, e.g. 24h, 7d (default 24h)'],
  ['SIRIUS_HTTP_PORT, SIRIUS_FLIGHT_PORT, SIRIUS_PG_PORT', 'as --http-port, --flight-port, --pg-port (the flag wins)'],
  ['SIRIUS_RETENTION', `as --retention: a duration such as 90d, or off (default ${DEFAULT_RETENTION})`],
  ['SIRIUS_QUERY_TIMEOUT_MS', 'as --query-timeout-ms: a query\'s time budget (default 60000)'],
  ['SIRIUS_QUERY_MEMORY', 'as --query-memory: DuckDB memory for all running queries together (default 2GB)'],
  ['SIRIUS_QUERY_MAX_ROWS', 'as --query-max-rows: most rows a result may have (default 5000000)'],
  ['SIRIUS_QUERY_MAX_RESULT_BYTES', 'as --query-max-result-bytes: most bytes one result may hold on the server (default 256MiB)'],
  ['SIRIUS_SHUTDOWN_GRACE_MS', `as --shutdown-grace-ms: how long requests in flight may finish at shutdown (default ${DEFAULT_SHUTDOWN_GRACE_MS})`],
  ['SIRIUS_SELF_TELEMETRY', "as --self-telemetry: record the server's own logs, metrics and spans: 1 = into this server, or a Sirius URL (default off)"],
  ['SIRIUS_INGESTION_KEY, SIRIUS_FLUSH_TIMEOUT_MS', 'with --self-telemetry <url>: the key sent to that server, and how long the last flush may take (as for any instrumented program)'],
  ['SIRIUS_PERFETTO_WINDOW_MS, SIRIUS_PERFETTO_BATCH_ROWS, SIRIUS_PERFETTO_PIECE_BYTES', 'Perfetto export (GET /api/perfetto, perfetto_trace_chunks): event time read per query (default 10000 ms), rows per streamed batch (default 16384), bytes gathered per write (default 1 MiB)'],
  ['SIRIUS_LAKEHOUSE_THREADS', 'DuckDB threads the daemon uses to compact partitions (default 2)'],
  ['SIRIUS_PARQUET_WRITER', "direct (default: Sirius's own Parquet writer for per-second partitions) or duckdb"],
  ['SIRIUS_LAKEHOUSE_STEP_PAUSE_MS, SIRIUS_LAKEHOUSE_TEST_SPANS_MS', 'test hooks: a pause inside each materialization step; shorter compaction spans (unset in production)'],
];

export function resolveServeConfig(opts: ServeOptions, env: NodeJS.ProcessEnv = process.env): ServeConfig {
  const dataDir = resolve(opts.dataDir ?? nonEmpty(env.SIRIUS_DATA_DIR) ?? '.sirius');
  const roles = opts.roles ?? [...ROLES];
  for (const r of roles) if (!ROLES.includes(r)) throw new ConfigError(`unknown role "${r}" (roles: ${ROLES.join(', ')})`);
  const httpPort = checkPort('HTTP', opts.httpPort ?? DEFAULT_HTTP_PORT);
  const flightPort = opts.flightPort == null ? null : checkPort('Flight SQL', opts.flightPort);
  const pgPort = opts.pgPort == null ? null : checkPort('PostgreSQL wire', opts.pgPort);
  const maxBlockBytes = opts.maxBlockBytes ?? DEFAULT_MAX_BLOCK_BYTES;
  if (!Number.isInteger(maxBlockBytes) || maxBlockBytes < 100) throw new ConfigError(`bad max block size ${maxBlockBytes}`);
  const retentionText = opts.retention ?? nonEmpty(env.SIRIUS_RETENTION);
  const retention = retentionText === undefined || retentionText.trim() === 'off' ? undefined : retentionText.trim();
  const lakeTimeoutMs = opts.lakeTimeoutMs ?? (nonEmpty(env.SIRIUS_LAKE_TIMEOUT_MS) ? Number(env.SIRIUS_LAKE_TIMEOUT_MS) : DEFAULT_LAKE_TIMEOUT_MS);
  if (!Number.isInteger(lakeTimeoutMs) || lakeTimeoutMs < 1) throw new ConfigError(`bad lake timeout ${lakeTimeoutMs} (want a whole number of milliseconds)`);
  return {
    roles: [...new Set(roles)],
    host: opts.host ?? '127.0.0.1',
    httpPort,
    flightPort,
    pgPort,
    dataDir,
    sqlConnectionString: opts.sqlConnectionString ?? nonEmpty(env.SIRIUS_SQL_CONNECTION_STRING),
    objectStoreUri: opts.objectStoreUri ?? nonEmpty(env.SIRIUS_OBJECT_STORE_URI) ?? pathToFileURL(resolve(dataDir, 'objects')).href,
    ingestionKeys: opts.ingestionKeys ?? parseKeyList(env.SIRIUS_INGESTION_KEYS),
    queryKeys: opts.queryKeys ?? parseKeyList(env.SIRIUS_QUERY_KEYS),
    ingestionOrigins: named(opts.ingestionOrigins ? 'ingestion origins' : 'SIRIUS_INGESTION_ORIGINS', () => parseOriginList(opts.ingestionOrigins?.join(',') ?? env.SIRIUS_INGESTION_ORIGINS)),
    ingestionRateLimits: resolveIngestionRateLimits(opts.ingestionRateLimits ?? {}, env),
    maxBlockBytes,
    lakeTimeoutMs,
    retention,
    retentionNs: retention === undefined ? undefined : parseDurationNs(retention),
    queryLimits: resolveQueryLimits(opts.queryLimits ?? {}, env),
    shutdownGraceMs: opts.shutdownGraceMs ?? wholeNumber(env, 'SIRIUS_SHUTDOWN_GRACE_MS', 0) ?? DEFAULT_SHUTDOWN_GRACE_MS,
    selfTelemetry: resolveSelfTelemetry(opts.selfTelemetry ?? nonEmpty(env.SIRIUS_SELF_TELEMETRY)),
    quiet: opts.quiet ?? false,
    webDistDir: opts.webDistDir,
    limits: resolveClientLimits(opts.limits ?? {}, env),
  };
}

function resolveQueryLimits(opts: ServeQueryLimits, env: NodeJS.ProcessEnv): ServeQueryLimits {
  const memory = nonEmpty(env.SIRIUS_QUERY_MEMORY);
  const resultBytes = nonEmpty(env.SIRIUS_QUERY_MAX_RESULT_BYTES);
  const limits: ServeQueryLimits = {
    timeoutMs: opts.timeoutMs ?? wholeNumber(env, 'SIRIUS_QUERY_TIMEOUT_MS', 1),
    // the engine reads DuckDB-style sizes; bytes are unambiguous there
    memoryLimit: opts.memoryLimit ?? (memory === undefined ? undefined : `${named('SIRIUS_QUERY_MEMORY', () => parseByteSize(memory))}B`),
    maxRows: opts.maxRows ?? wholeNumber(env, 'SIRIUS_QUERY_MAX_ROWS', 1),
    maxResultBytes: opts.maxResultBytes ?? (resultBytes === undefined ? undefined : named('SIRIUS_QUERY_MAX_RESULT_BYTES', () => parseByteSize(resultBytes))),
  };
  for (const [name, value] of Object.entries(limits)) {
    if (typeof value === 'number' && (!Number.isInteger(value) || value < 1)) throw new ConfigError(`bad query limit ${name} ${value}: want a positive whole number`);
  }
  return Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)) as ServeQueryLimits;
}

function resolveIngestionRateLimits(opts: Partial<IngestionRateLimits>, env: NodeJS.ProcessEnv): IngestionRateLimits {
  const d = DEFAULT_INGESTION_RATE_LIMITS;
  const limits: IngestionRateLimits = {
    clientRate: opts.clientRate ?? wholeNumber(env, 'SIRIUS_INGESTION_CLIENT_RATE', 0) ?? d.clientRate,
    clientBurst: opts.clientBurst ?? wholeNumber(env, 'SIRIUS_INGESTION_CLIENT_BURST', 1) ?? d.clientBurst,
    keyRate: opts.keyRate ?? wholeNumber(env, 'SIRIUS_INGESTION_KEY_RATE', 0) ?? d.keyRate,
    keyBurst: opts.keyBurst ?? wholeNumber(env, 'SIRIUS_INGESTION_KEY_BURST', 1) ?? d.keyBurst,
  };
  for (const [name, value] of Object.entries(limits)) {
    const min = name.endsWith('Burst') ? 1 : 0;
    if (!Number.isFinite(value) || value < min) throw new ConfigError(`bad ingestion rate limit ${name} ${value}: want a number ≥ ${min}`);
  }
  return limits;
}

/** `SIRIUS_SELF_TELEMETRY`: '1' (or 'self', 'true') = this server, an http(s) URL = that server, '0'/'off' = off */
function resolveSelfTelemetry(text: string | undefined): string | undefined {
  const v = text?.trim();
  if (v === undefined || v === '' || v === '0' || v === 'off' || v === 'false') return undefined;
  if (v === '1' || v === 'self' || v === 'true') return 'self';
  if (/^https?:\/\/[^/]/.test(v)) return v.replace(/\/+$/, '');
  throw new ConfigError(`bad SIRIUS_SELF_TELEMETRY "${v}": want 1 (this server), off, or a Sirius URL such as http://127.0.0.1:9000`);
}

function wholeNumber(env: NodeJS.ProcessEnv, name: string, min: number): number | undefined {
  const text = nonEmpty(env[name]);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text.trim()) || Number(text) < min) throw new ConfigError(`bad ${name} "${text}": want a whole number ≥ ${min}`);
  return Number(text);
}

function named<T>(name: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new ConfigError(`bad ${name}: ${(err as Error).message}`);
  }
}

function resolveClientLimits(opts: Partial<ClientLimits>, env: NodeJS.ProcessEnv): ClientLimits {
  const count = (name: string) => {
    const text = nonEmpty(env[name]);
    if (text === undefined) return undefined;
    if (!/^\d+$/.test(text.trim()) || Number(text) < 1) throw new ConfigError(`bad ${name} "${text}": want a positive whole number`);
    return Number(text);
  };
  const d = DEFAULT_CLIENT_LIMITS;
  const limits: ClientLimits = {
    pgMaxConnections: opts.pgMaxConnections ?? count('SIRIUS_PG_MAX_CONNECTIONS') ?? d.pgMaxConnections,
    pgMaxConnectionsPerAddress: opts.pgMaxConnectionsPerAddress ?? count('SIRIUS_PG_MAX_CONNECTIONS_PER_ADDRESS') ?? d.pgMaxConnectionsPerAddress,
    pgAuthTimeoutMs: opts.pgAuthTimeoutMs ?? count('SIRIUS_PG_AUTH_TIMEOUT_MS') ?? d.pgAuthTimeoutMs,
    httpHeadersTimeoutMs: opts.httpHeadersTimeoutMs ?? count('SIRIUS_HTTP_HEADERS_TIMEOUT_MS') ?? d.httpHeadersTimeoutMs,
    httpRequestTimeoutMs: opts.httpRequestTimeoutMs ?? count('SIRIUS_HTTP_REQUEST_TIMEOUT_MS') ?? d.httpRequestTimeoutMs,
    httpMaxConnections: opts.httpMaxConnections ?? count('SIRIUS_HTTP_MAX_CONNECTIONS') ?? d.httpMaxConnections,
  };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 1) throw new ConfigError(`bad ${name} ${value}: want a positive whole number`);
  }
  // node refuses a request deadline shorter than the headers deadline
  if (limits.httpHeadersTimeoutMs > limits.httpRequestTimeoutMs) {
    throw new ConfigError(`the HTTP headers timeout (${limits.httpHeadersTimeoutMs} ms) must not exceed the request timeout (${limits.httpRequestTimeoutMs} ms)`);
  }
  return limits;
}

function checkPort(what: string, port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`bad ${what} port ${port}`);
  return port;
}

const UNIT_NS: Record<string, bigint> = { s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n, d: 86_400_000_000_000n };

/** '90d', '12h', '30m', '45s' → nanoseconds */
export function parseDurationNs(text: string): bigint {
  const m = /^(\d+)([smhd])$/.exec(text.trim());
  if (!m || m[1] === '0') throw new ConfigError(`bad duration "${text}": write a positive number followed by s, m, h or d (e.g. 90d)`);
  return BigInt(m[1]!) * UNIT_NS[m[2]!]!;
}

/** '16777216', '64KiB', '16MiB', '1GiB' (also KB/MB/GB, read as powers of 1024) → bytes */
export function parseByteSize(text: string): number {
  const m = /^(\d+)\s*(|k|kb|kib|m|mb|mib|g|gb|gib)$/i.exec(text.trim());
  if (!m) throw new ConfigError(`bad size "${text}": write bytes, or a number followed by KiB, MiB or GiB`);
  const unit = m[2]!.toLowerCase()[0];
  const factor = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  return Number(m[1]) * factor;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}
