/**
 * `sirius serve`: runs the server until SIGINT/SIGTERM, then closes it gracefully (requests in flight
 * finish, pending block rows are committed). A second signal exits at once.
 */
import { DEFAULT_FLIGHT_PORT, DEFAULT_HTTP_PORT, DEFAULT_MAX_BLOCK_BYTES, DEFAULT_PG_PORT, ROLES, SERVE_ENV_VARS, parseByteSize, parseDurationNs, type Role } from '../config.js';
import { startServer } from '../serve.js';
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
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the server (ingestion, daemon, analytics, web) until interrupted',
  help: () => `Usage: sirius serve [options]

Runs the Sirius server. Stops gracefully on SIGINT or SIGTERM.

Options:
  --roles <list>          comma-separated roles to run: ${ROLES.join(', ')} (default: all)
  --host <address>        interface to listen on (default 127.0.0.1)
  --http-port <port>      HTTP port for ingestion, the query API and the web app (default ${DEFAULT_HTTP_PORT}; 0 = any free port)
  --flight-port <port>    Arrow Flight SQL (gRPC) port, served with the analytics role (default ${DEFAULT_FLIGHT_PORT}; off to disable)
  --pg-port <port>        PostgreSQL wire-protocol port, served with the analytics role (default ${DEFAULT_PG_PORT}; off to disable)
  --data-dir <path>       data folder (default: $SIRIUS_DATA_DIR, else ./.sirius)
  --max-block-bytes <n>   largest accepted block, in bytes or with KiB/MiB/GiB (default ${DEFAULT_MAX_BLOCK_BYTES / 1024 / 1024}MiB);
                          larger bodies are refused with 413
  --retention <duration>  delete data older than this, e.g. 90d, 12h (s, m, h, d); applied by the daemon role
                          (default: keep everything)
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
    const server = await startServer({
      roles: values.roles === undefined ? undefined : parseRoles(values.roles),
      host: values.host,
      httpPort: values['http-port'] === undefined ? undefined : parsePort(values['http-port']),
      flightPort: optionalPort('--flight-port', values['flight-port'], DEFAULT_FLIGHT_PORT),
      pgPort: optionalPort('--pg-port', values['pg-port'], DEFAULT_PG_PORT),
      dataDir: values['data-dir'],
      maxBlockBytes: values['max-block-bytes'] === undefined ? undefined : usage(() => parseByteSize(values['max-block-bytes']!)),
      retention: values.retention === undefined ? undefined : checkedDuration(values.retention),
      quiet: values.quiet,
    });
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

/** A protocol port flag: its default when absent, null for `off`. */
function optionalPort(flag: string, text: string | undefined, fallback: number): number | null {
  if (text === undefined) return fallback;
  return text === 'off' ? null : parsePort(text, flag);
}

function parsePort(text: string, flag = '--http-port'): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535) throw new UsageError(`bad ${flag} "${text}": want 0..65535`);
  return n;
}

function checkedDuration(text: string): string {
  usage(() => parseDurationNs(text));
  return text;
}

function usage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
