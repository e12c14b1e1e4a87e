/**
 * `sirius serve`: runs the server until SIGINT/SIGTERM, then closes it gracefully (requests in flight
 * finish within the shutdown grace, pending block rows are committed). A second signal exits at once.
 * Each flag has an environment variable; the flag wins, then the variable, then the default.
 */
import {
  DEFAULT_FLIGHT_PORT, DEFAULT_HTTP_PORT, DEFAULT_MAX_BLOCK_BYTES, DEFAULT_PG_PORT, DEFAULT_RETENTION, DEFAULT_SHUTDOWN_GRACE_MS,
  ROLES, SERVE_ENV_VARS, parseByteSize, parseDurationNs, type Role,
} from '../config.js';
import { parseOriginList } from '../ingestion/cors.js';
import { DEFAULT_INGESTION_RATE_LIMITS } from '../ingestion/rate-limit.js';
import { UsageError, type Command } from './command.js';
import { parseCommandArgs } from './parse.js';

const OPTIONS = {
  roles: { type: 'string' },
  host: { type: 'string' },
  'http-port': { type: 'string' },
  'flight-port': { type: 'string' },
  'pg-port': { type: 'string' },
  'data-dir': { type: 'string' },
  'max-block-bytes': { type: 'string' },
  retention: { type: 'string' },
  'query-timeout-ms': { type: 'string' },
  'query-memory': { type: 'string' },
  'query-max-rows': { type: 'string' },
  'query-max-result-bytes': { type: 'string' },
  'shutdown-grace-ms': { type: 'string' },
  'self-telemetry': { type: 'string' },
  'ingestion-origins': { type: 'string' },
  'ingestion-client-rate': { type: 'string' },
  'ingestion-client-burst': { type: 'string' },
  'ingestion-key-rate': { type: 'string' },
  'ingestion-key-burst': { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the server (ingestion, daemon, analytics, web) until interrupted',
  help: () => `Usage: sirius serve [options]

Runs the Sirius server. Stops gracefully on SIGINT or SIGTERM. Prints one line when it is listening.

Options (each also read from the environment variable shown; the flag wins):
  --roles <list>          comma-separated roles to run: ${ROLES.join(', ')} (default: all)
  --host <address>        interface to listen on (default 127.0.0.1)
  --http-port <port>      SIRIUS_HTTP_PORT: HTTP port for ingestion, the query API and the web app
                          (default ${DEFAULT_HTTP_PORT}; 0 = any free port)
  --flight-port <port>    SIRIUS_FLIGHT_PORT: Arrow Flight SQL (gRPC) port, served with the analytics role
                          (default ${DEFAULT_FLIGHT_PORT}; 0 = any free port; off to disable)
  --pg-port <port>        SIRIUS_PG_PORT: PostgreSQL wire-protocol port, served with the analytics role
                          (default ${DEFAULT_PG_PORT}; 0 = any free port; off to disable)
  --data-dir <path>       SIRIUS_DATA_DIR: data folder (default ./.sirius)
  --max-block-bytes <n>   largest accepted block, in bytes or with KiB/MiB/GiB (default ${DEFAULT_MAX_BLOCK_BYTES / 1024 / 1024}MiB);
                          larger bodies are refused with 413
  --retention <duration>  SIRIUS_RETENTION: delete data older than this, e.g. 90d, 12h (s, m, h, d), or off to
                          keep everything; applied by the daemon role (default ${DEFAULT_RETENTION})
  --query-timeout-ms <n>  SIRIUS_QUERY_TIMEOUT_MS: a query's time budget; slower ones answer 408 (default 60000)
  --query-memory <size>   SIRIUS_QUERY_MEMORY: DuckDB memory for all running queries together, e.g. 2GiB (default 2GB)
  --query-max-rows <n>    SIRIUS_QUERY_MAX_ROWS: most rows a result may have, else 413 (default 5000000)
  --query-max-result-bytes <size>
                          SIRIUS_QUERY_MAX_RESULT_BYTES: most bytes one result may hold on the server, else 413
                          (default 256MiB)
  --shutdown-grace-ms <n> SIRIUS_SHUTDOWN_GRACE_MS: at shutdown, how long requests in flight may finish before
                          their connections are cut (default ${DEFAULT_SHUTDOWN_GRACE_MS})
  --self-telemetry <to>   SIRIUS_SELF_TELEMETRY: record the server's own logs, metrics and spans with
                          @sirius/tracing: 1 = into this server's own lake, or the URL of a Sirius server (default off)
  --ingestion-origins <list>
                          SIRIUS_INGESTION_ORIGINS: web page origins allowed to send telemetry from a browser
                          (CORS), comma-separated scheme://host[:port], or * for any page (default: none)
  --ingestion-client-rate <n>, --ingestion-client-burst <n>
                          SIRIUS_INGESTION_CLIENT_RATE, _BURST: ingestion requests per second from one address,
                          and at once; over it 429 with Retry-After (default ${DEFAULT_INGESTION_RATE_LIMITS.clientRate}, ${DEFAULT_INGESTION_RATE_LIMITS.clientBurst}; rate 0 = no limit)
  --ingestion-key-rate <n>, --ingestion-key-burst <n>
                          SIRIUS_INGESTION_KEY_RATE, _BURST: the same per API key (default ${DEFAULT_INGESTION_RATE_LIMITS.keyRate}, ${DEFAULT_INGESTION_RATE_LIMITS.keyBurst})
  --quiet                 print nothing but errors
  -h, --help              show this help

Environment:
${SERVE_ENV_VARS.map(([name, what]) => `  ${name}\n      ${what}`).join('\n')}
`,
  async run(args) {
    const { values } = parseCommandArgs(args, OPTIONS);
    if (values.help) {
      process.stdout.write(this.help());
      return 0;
    }
    const env = process.env;
    const setting = (flag: keyof typeof OPTIONS, variable: string): [string, string] | undefined => {
      const v = values[flag];
      if (typeof v === 'string') return [`--${flag}`, v];
      const e = env[variable];
      return e === undefined || e.trim() === '' ? undefined : [variable, e.trim()];
    };
    const httpPort = setting('http-port', 'SIRIUS_HTTP_PORT');
    const retention = setting('retention', 'SIRIUS_RETENTION') ?? ['--retention', DEFAULT_RETENTION];
    const timeout = setting('query-timeout-ms', 'SIRIUS_QUERY_TIMEOUT_MS');
    const memory = setting('query-memory', 'SIRIUS_QUERY_MEMORY');
    const rows = setting('query-max-rows', 'SIRIUS_QUERY_MAX_ROWS');
    const resultBytes = setting('query-max-result-bytes', 'SIRIUS_QUERY_MAX_RESULT_BYTES');
    const grace = setting('shutdown-grace-ms', 'SIRIUS_SHUTDOWN_GRACE_MS');
    const origins = setting('ingestion-origins', 'SIRIUS_INGESTION_ORIGINS');
    const rate = (flag: keyof typeof OPTIONS, variable: string, min: number) => {
      const given = setting(flag, variable);
      return given && count(given, min);
    };
    const options = {
      roles: values.roles === undefined ? undefined : parseRoles(values.roles),
      host: values.host,
      httpPort: httpPort === undefined ? undefined : parsePort(httpPort),
      flightPort: optionalPort(setting('flight-port', 'SIRIUS_FLIGHT_PORT'), DEFAULT_FLIGHT_PORT),
      pgPort: optionalPort(setting('pg-port', 'SIRIUS_PG_PORT'), DEFAULT_PG_PORT),
      dataDir: values['data-dir'],
      maxBlockBytes: values['max-block-bytes'] === undefined ? undefined : usage('--max-block-bytes', () => parseByteSize(values['max-block-bytes']!)),
      retention: retention[1] === 'off' ? 'off' : usage(retention[0], () => (parseDurationNs(retention[1]), retention[1])),
      queryLimits: {
        timeoutMs: timeout && count(timeout, 1),
        memoryLimit: memory && `${usage(memory[0], () => parseByteSize(memory[1]))}B`,
        maxRows: rows && count(rows, 1),
        maxResultBytes: resultBytes && usage(resultBytes[0], () => parseByteSize(resultBytes[1])),
      },
      shutdownGraceMs: grace && count(grace, 0),
      selfTelemetry: values['self-telemetry'],
      ingestionOrigins: origins && usage(origins[0], () => parseOriginList(origins[1])),
      ingestionRateLimits: {
        clientRate: rate('ingestion-client-rate', 'SIRIUS_INGESTION_CLIENT_RATE', 0),
        clientBurst: rate('ingestion-client-burst', 'SIRIUS_INGESTION_CLIENT_BURST', 1),
        keyRate: rate('ingestion-key-rate', 'SIRIUS_INGESTION_KEY_RATE', 0),
        keyBurst: rate('ingestion-key-burst', 'SIRIUS_INGESTION_KEY_BURST', 1),
      },
      quiet: values.quiet,
    };
    // loaded here, not at the top: `sirius serve --help` and usage errors need none of the server
    const { startServer } = await import('../serve.js');
    const server = await startServer(options);
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        if (!values.quiet) console.log(`[sirius serve] ${signal}: closing (again to force)`);
        process.once(signal, () => process.exit(130));
        resolve();
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    await server.close();
    if (!values.quiet) console.log('[sirius serve] closed');
    return 0;
  },
};

function parseRoles(text: string): Role[] {
  const roles = text.split(',').map((r) => r.trim()).filter((r) => r !== '');
  for (const r of roles) if (!(ROLES as readonly string[]).includes(r)) throw new UsageError(`unknown role "${r}" (roles: ${ROLES.join(', ')})`);
  if (roles.length === 0) throw new UsageError('--roles needs at least one role');
  return roles as Role[];
}

/** A protocol port setting: its default when absent, null for `off`. */
function optionalPort(given: [string, string] | undefined, fallback: number): number | null {
  if (given === undefined) return fallback;
  return given[1] === 'off' ? null : parsePort(given);
}

function parsePort([name, text]: [string, string]): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535) throw new UsageError(`bad ${name} "${text}": want 0..65535`);
  return n;
}

function count([name, text]: [string, string], min: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min) throw new UsageError(`bad ${name} "${text}": want a whole number ≥ ${min}`);
  return Number(text);
}

function usage<T>(name: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new UsageError(`${name}: ${(err as Error).message}`);
  }
}
