/**
 * Sirius observed with Sirius: with `SIRIUS_SELF_TELEMETRY` set, the server records its own logs, metrics
 * and spans with `@sirius/tracing`, into its own lake (`1`) or another Sirius server (a URL). What it records:
 *   metrics  ingestion_latency (ms, per block), ingestion_block_bytes, query_duration (ms), query_rows,
 *            etl_lag (s: how far the newest log/metric partition trails the clock, once per daemon pass)
 *   spans    insert_block, lakehouse_pass
 *   logs     every line of the server's own log (log.ts)
 * The hooks below are called from the ingestion, query and daemon paths and cost one branch when it is off;
 * `@sirius/tracing` is loaded only when it is on.
 *
 * @example
 *   const self = await startSelfTelemetry({ url: server.url, roles: ['ingestion'] });
 *   blockIngested(3.2, 4096); // ingestion_latency 3.2 ms
 *   await self.stop();
 */
import type { Lake } from './lake/lake.js';

type Tracing = typeof import('@sirius/tracing');

/** set while self-telemetry runs */
let tracing: Tracing | undefined;
const TARGET = 'sirius/server';

export interface SelfTelemetryOptions {
  /** the Sirius server that receives it (this one's own URL for `1`) */
  url: string;
  /** ingestion key for a server that wants one */
  apiKey?: string;
  roles: readonly string[];
}

export interface SelfTelemetry {
  /** flushes what is recorded (briefly: the receiving server may be this one, closing) and stops */
  stop(): Promise<void>;
}

/** The name the server's own process has in `processes.exe`. */
export const SELF_EXE = 'sirius-server';

export async function startSelfTelemetry(opts: SelfTelemetryOptions): Promise<SelfTelemetry> {
  const t = await import('@sirius/tracing');
  t.init({ url: opts.url, exe: SELF_EXE, apiKey: opts.apiKey, properties: { sirius_roles: opts.roles.join(',') } });
  tracing = t;
  t.info(`self-telemetry to ${opts.url}`, { target: TARGET });
  return {
    async stop() {
      if (tracing !== t) return;
      tracing = undefined;
      await t.shutdown({ timeoutMs: 2_000 });
    },
  };
}

export function selfTelemetryOn(): boolean {
  return tracing !== undefined;
}

/** one block stored by `/ingestion/insert_block`: wall time of the request and its size */
export function blockIngested(ms: number, bytes: number): void {
  if (!tracing) return;
  tracing.fmetric('ingestion_latency', 'ms', ms, { target: 'sirius/ingestion' });
  tracing.imetric('ingestion_block_bytes', 'bytes', bytes, { target: 'sirius/ingestion' });
}

/** one query answered by the engine (HTTP, Flight SQL or the PostgreSQL gateway) */
export function queryFinished(ms: number, rows: number): void {
  if (!tracing) return;
  tracing.fmetric('query_duration', 'ms', ms, { target: 'sirius/analytics' });
  tracing.imetric('query_rows', 'rows', rows, { target: 'sirius/analytics' });
}

/** a line of the server's own log */
export function logLine(level: 'info' | 'error', component: string, msg: string): void {
  if (!tracing) return;
  tracing[level](msg, { target: `sirius/${component}` });
}

/** runs `fn` inside a span named `name` when self-telemetry is on */
export function traced<T>(name: string, fn: () => Promise<T>): Promise<T> {
  return tracing ? tracing.spanAsync(name, fn, { target: TARGET }) : fn();
}

/**
 * ETL lag, after a daemon pass: the clock minus the newest insert time covered by a `log_entries` or
 * `measures` partition (nothing materialized yet: not recorded).
 */
export async function recordEtlLag(lake: Lake): Promise<void> {
  if (!tracing) return;
  const [row] = await lake.sql.query<{ newest: string | null }>(
    "SELECT max(end_insert_time)::text AS newest FROM lakehouse_partitions WHERE view_set IN ('log_entries', 'measures')",
  );
  if (!row?.newest || !tracing) return;
  const lagS = Number(BigInt(Date.now()) * 1_000_000n - BigInt(row.newest)) / 1e9;
  tracing.fmetric('etl_lag', 's', Math.max(0, lagS), { target: 'sirius/daemon' });
}
