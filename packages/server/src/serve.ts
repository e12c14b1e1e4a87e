/**
 * Composes a Sirius server: opens (and migrates) the lake, mounts the HTTP routes of the requested roles
 * on one Hono app, starts background roles, and listens. `close()` undoes it all in reverse order:
 * stop accepting, drain requests, flush pending block rows, stop services, close the lake.
 *
 * @example
 *   const server = await startServer({ httpPort: 0, dataDir: tmp, quiet: true });
 *   await fetch(`${server.url}/health`);
 *   await server.close();
 */
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { resolveServeConfig, type ClientLimits, type ServeConfig, type ServeOptions } from './config.js';
import { createHealthRoutes } from './health.js';
import { requireApiKey } from './ingestion/api-keys.js';
import { KeyRegistry } from './auth/key-gate.js';
import { openLake } from './lake/open-lake.js';
import { redact } from './lake/open-sql-client.js';
import type { Lake } from './lake/lake.js';
import { createLog } from './log.js';
import { explainListenError } from './port-in-use.js';
import { startSelfTelemetry } from './self-telemetry.js';
import { createAnalyticsRole, startDaemonRole, startSqlProtocols, type RoleContext } from './roles.js';
import { webHandler } from './web-static.js';
import { createSdkRoutes } from './endpoints/sdk-route.js';

export type { ServeOptions, Role } from './config.js';

export interface RunningServer {
  /** base URL, e.g. http://127.0.0.1:9000 */
  url: string;
  port: number;
  lake: Lake;
  config: ServeConfig;
  close(): Promise<void>;
}

export async function startServer(opts: ServeOptions = {}): Promise<RunningServer> {
  const config = resolveServeConfig(opts);
  const log = createLog('serve', config.quiet);
  const lake = await openLake({
    sqlConnectionString: config.sqlConnectionString,
    dataDir: config.dataDir,
    objectStoreUri: config.objectStoreUri,
    timeoutMs: config.lakeTimeoutMs,
  });
  const closers: Array<() => Promise<void>> = [];
  /** the SQL protocol endpoints, for the startup line */
  const addresses: string[] = [];
  try {
    // managed keys (`sirius admin keys`), checked alongside the environment's; closed last (writes last-used times)
    const keys = new KeyRegistry(lake.sql);
    await keys.start();
    closers.push(() => keys.close());
    const ctx: RoleContext = { lake, config, log, keys };
    const app = new Hono();
    app.route('/', createHealthRoutes(lake));

    if (config.roles.includes('ingestion')) {
      // loaded with its role, like the others (roles.ts)
      const { createIngestionService } = await import('./ingestion/ingestion-app.js');
      const ingestion = createIngestionService(lake, {
        maxBlockBytes: config.maxBlockBytes,
        keys: keys.gate('ingestion', config.ingestionKeys),
        origins: config.ingestionOrigins,
        rateLimits: config.ingestionRateLimits,
        onError: (err) => createLog('ingestion').error('request failed', err),
      });
      app.route('/ingestion', ingestion.app);
      app.route('/v1', ingestion.otlp);
      closers.push(() => ingestion.close());
    }

    if (config.roles.includes('analytics')) {
      const analytics = await createAnalyticsRole(ctx);
      if (analytics) {
        // the query side's keys (none anywhere: open, for a private interface), before any /api route
        app.use('/api/*', requireApiKey(keys.gate('query', config.queryKeys)));
        app.route('/api', analytics.app);
        closers.push(() => analytics.close());
        for (const service of await startSqlProtocols(ctx, analytics.engine)) {
          closers.push(() => service.stop());
          if (service.address) addresses.push(service.address);
        }
      } else log.info('analytics role: not available in this build');
    }

    if (config.roles.includes('daemon')) {
      const daemon = await startDaemonRole(ctx);
      if (daemon) closers.push(() => daemon.stop());
      else log.info('daemon role: not available in this build');
    }

    // the browser SDK (a public script) wherever pages send to or are served from
    if (config.roles.includes('ingestion') || config.roles.includes('web')) app.route('/sdk', createSdkRoutes());

    // last: the web app answers GETs that no other route took
    if (config.roles.includes('web')) app.get('*', webHandler(config.webDistDir));

    const server = await listen(app, config.host, config.httpPort, config.limits);
    const port = (server.address() as AddressInfo).port;
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    // one line says it all (docs/deployment.md shows it)
    const parts = [`roles: ${config.roles.join(', ')}`, ...addresses, `sql: ${describeSql(config)}`, `objects: ${config.objectStoreUri}`];
    if (config.roles.includes('daemon')) parts.push(`retention: ${config.retention ?? 'off (data kept forever)'}`);
    if (config.selfTelemetry) parts.push(`self-telemetry: ${config.selfTelemetry === 'self' ? 'this server' : config.selfTelemetry}`);
    log.info(`listening on ${url} — ${parts.join('; ')}`);

    // after listening: with `1` it sends to this very server
    const self = config.selfTelemetry
      ? await startSelfTelemetry({
          url: config.selfTelemetry !== 'self' ? config.selfTelemetry : ['0.0.0.0', '::'].includes(config.host) ? `http://127.0.0.1:${port}` : url,
          apiKey: config.selfTelemetry === 'self' ? config.ingestionKeys[0] : undefined,
          roles: config.roles,
        })
      : undefined;

    let closing: Promise<void> | undefined;
    return {
      url,
      port,
      lake,
      config,
      close() {
        closing ??= (async () => {
          // first, while this server still takes its last blocks
          await self?.stop().catch((err) => log.error('self-telemetry flush failed', err));
          await stopListening(server, config.shutdownGraceMs);
          for (const close of closers.reverse()) await close().catch((err) => log.error('close failed', err));
          await lake.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    for (const close of closers.reverse()) await close().catch(() => {});
    await lake.close();
    throw err;
  }
}

function describeSql(config: ServeConfig): string {
  if (config.sqlConnectionString === undefined) return `PGlite in ${config.dataDir}/pglite`;
  if (config.sqlConnectionString === 'memory://') return 'PGlite in memory';
  return redact(config.sqlConnectionString);
}

function listen(app: Hono, hostname: string, port: number, limits: ClientLimits): Promise<Server> {
  return new Promise((resolve, reject) => {
    const serverOptions = {
      headersTimeout: limits.httpHeadersTimeoutMs,
      // counts until the whole body has arrived, not while the response is computed: slow queries are not cut
      requestTimeout: limits.httpRequestTimeoutMs,
      keepAliveTimeout: 5_000,
      // node enforces both timeouts only when this timer ticks (every 30 s by default, which would let a slow
      // client hold on up to 30 s longer); it can only be set when the server is created
      connectionsCheckingInterval: Math.max(25, Math.min(1_000, Math.floor(limits.httpHeadersTimeoutMs / 4))),
    };
    const server = serve({ fetch: app.fetch, hostname, port, serverOptions }) as Server;
    // over the bound node closes the new socket at once: idle floods cannot take every descriptor
    server.maxConnections = limits.httpMaxConnections;
    server.once('listening', () => resolve(server));
    server.once('error', (err) => void explainListenError(err, 'http', hostname, port).then(reject));
  });
}

/** Stops accepting, lets requests in flight finish (up to `graceMs`), then drops what is left. */
function stopListening(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
