/**
 * The roles `startServer` composes besides ingestion: each one is built here from the shared lake, so
 * serve.ts stays a list of roles and a role can run alone (`sirius serve --roles daemon`). Each role loads
 * its modules when it starts: a process running one role does not load (or hold in memory) the others'
 * DuckDB, Arrow and gRPC code.
 */
import { Hono } from 'hono';
import type { QueryEngine } from './analytics/query-engine.js';
import type { ServeConfig } from './config.js';
import type { Lake } from './lake/lake.js';
import type { Log } from './log.js';
import { explainListenError } from './port-in-use.js';
import { staticKeyGate, type KeyRegistry } from './auth/key-gate.js';

export interface RoleContext {
  lake: Lake;
  config: ServeConfig;
  log: Log;
  /** managed API keys; without it only the configured keys count */
  keys?: KeyRegistry;
}

/** A background service: started once, stopped (gracefully) when the server closes. */
export interface Service {
  stop(): Promise<void>;
  /** where clients reach it, for the startup line (e.g. `Flight SQL grpc://127.0.0.1:50051`) */
  address?: string;
}

/** An HTTP role: routes mounted at `/api`, plus anything to release at close. */
export interface HttpRole {
  app: Hono;
  close(): Promise<void>;
}

/** The analytics role: the HTTP query API plus the engine the SQL protocol endpoints share. */
export interface AnalyticsRole extends HttpRole {
  engine: QueryEngine;
}

/** `daemon` role: the lakehouse daemon (materialization every second, compaction, retention). */
export async function startDaemonRole(ctx: RoleContext): Promise<Service | null> {
  const { startDaemon } = await import('./lakehouse/index.js');
  return startDaemon({
    lake: ctx.lake,
    dataDir: ctx.config.dataDir,
    retention: ctx.config.retention,
    quiet: ctx.config.quiet,
  });
}

/** `analytics` role: the query API and saved notebooks, mounted at `/api`. */
export async function createAnalyticsRole(ctx: RoleContext): Promise<AnalyticsRole | null> {
  const [{ createLakehouse }, { createAnalytics }, { createNotebookRoutes }, { createPerfettoRoutes }] = await Promise.all([
    import('./lakehouse/index.js'),
    import('./endpoints/create-analytics.js'),
    import('./endpoints/notebooks.js'),
    import('./endpoints/perfetto-export.js'),
  ]);
  const lakehouse = createLakehouse({ lake: ctx.lake, dataDir: ctx.config.dataDir });
  const analytics = await createAnalytics({ lake: ctx.lake, lakehouse, dataDir: ctx.config.dataDir, limits: ctx.config.queryLimits });
  const app = new Hono();
  app.route('/', analytics.app);
  app.route('/', createNotebookRoutes({ objects: ctx.lake.objects }));
  app.route('/', createPerfettoRoutes({ engine: analytics.engine, quiet: ctx.config.quiet }));
  return { app, engine: analytics.engine, close: () => analytics.close() };
}

/**
 * gRPC prints its own line when it cannot bind ("E No address added…") before the error reaches us; the
 * server says what happened in its own words (port-in-use.ts), so that line alone is dropped.
 */
let grpcLoggerQuieted = false;
async function quietGrpcBindLine(): Promise<void> {
  if (grpcLoggerQuieted) return;
  grpcLoggerQuieted = true;
  const { setLogger } = await import('@grpc/grpc-js');
  setLogger({
    error: (message?: unknown, ...rest: unknown[]) => {
      if (typeof message === 'string' && message.startsWith('No address added out of total')) return;
      console.error(`E ${String(message)}`, ...rest);
    },
    info: (message?: unknown, ...rest: unknown[]) => console.error(`I ${String(message)}`, ...rest),
    debug: (message?: unknown, ...rest: unknown[]) => console.error(`D ${String(message)}`, ...rest),
  });
}

/** Arrow Flight SQL and the PostgreSQL wire gateway over the analytics engine, on the ports asked for. */
export async function startSqlProtocols(ctx: RoleContext, engine: QueryEngine): Promise<Service[]> {
  const services: Service[] = [];
  // the query side's keys, like `/api`'s (none: open, for a private interface); ingestion keys are for writers
  const { host, flightPort, pgPort, queryKeys } = ctx.config;
  const keys = ctx.keys?.gate('query', queryKeys) ?? staticKeyGate(queryKeys);
  try {
    if (flightPort !== null) {
      await quietGrpcBindLine();
      const { startFlightSqlServer } = await import('./endpoints/flight-sql/index.js');
      const flight = await startFlightSqlServer({ engine, host, port: flightPort, keys }).catch(async (err: unknown) => {
        throw await explainListenError(err, 'flight', host, flightPort);
      });
      services.push({ stop: () => flight.close(), address: `flight sql: grpc://${host}:${flight.port}` });
    }
    if (pgPort !== null) {
      const { pgMaxConnections, pgMaxConnectionsPerAddress, pgAuthTimeoutMs } = ctx.config.limits;
      const { startPgGateway } = await import('./endpoints/pg-wire/index.js');
      const gateway = await startPgGateway({
        engine, host, port: pgPort, keys,
        maxConnections: pgMaxConnections, maxConnectionsPerAddress: pgMaxConnectionsPerAddress, authTimeoutMs: pgAuthTimeoutMs,
      }).catch(async (err: unknown) => {
        throw await explainListenError(err, 'pg', host, pgPort);
      });
      services.push({ stop: () => gateway.close(), address: `postgres: postgres://${host}:${gateway.port}` });
    }
  } catch (err) {
    await Promise.all(services.map((s) => s.stop()));
    throw err;
  }
  return services;
}
