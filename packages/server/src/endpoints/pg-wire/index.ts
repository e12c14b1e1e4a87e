/**
 * The PostgreSQL wire-protocol gateway: psql, pandas/SQLAlchemy, Grafana's PostgreSQL data source and
 * BI tools query Sirius with their stock PostgreSQL drivers. SQL runs on the analytics engine over a
 * time range: the session's (`SET sirius.begin = '1h'`) or a `/* begin=… end=… *\/` comment's; without
 * them, the query's own predicates on time (`time BETWEEN …`), else the engine's default (the last 24 h).
 * No TLS (clients asking for it are told 'N' and go on in clear).
 *
 * @example
 *   const pg = await startPgGateway({ engine, port: 8432 });
 *   // psql -h 127.0.0.1 -p 8432 -U sirius -c "SELECT count(*) FROM log_entries"
 *   await pg.close();
 */
import { createServer, type Server, type Socket } from 'node:net';
import { randomInt } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { QueryEngine } from '../../analytics/query-engine.js';
import { staticKeyGate, type KeyGate } from '../../auth/key-gate.js';
import * as msg from './backend-messages.js';
import { ConnectionLimits } from './connection-limits.js';
import { PgSession } from './session.js';
import { StatementError } from './statement-runner.js';
import { endSocket } from './socket-ending.js';
import type { TimeRangeText } from './session-settings.js';

export interface PgGatewayOptions {
  engine: QueryEngine;
  /** default 127.0.0.1 */
  host?: string;
  /** 0 picks a free port */
  port: number;
  /** the range a query covers when the session sets none (default: none, so the query's own bounds on time, else the engine's default) */
  defaultRange?: Partial<TimeRangeText>;
  /** when set and not empty, clients must send one of these as their password */
  apiKeys?: readonly string[];
  /** the key check to use instead of `apiKeys` (a server's, with its managed keys) */
  keys?: KeyGate;
  /** largest frontend message once authenticated, bytes (default 64 MiB) */
  maxMessageBytes?: number;
  /** largest message before authentication: startup packet, SSL and cancel requests, password (default 8 KiB) */
  maxPreAuthMessageBytes?: number;
  /** startup and authentication must finish within this many ms of connecting (default 10 s) */
  authTimeoutMs?: number;
  /** connections open at once; more are refused with SQLSTATE 53300 (default 256) */
  maxConnections?: number;
  /** connections open at once from one client address; more are refused with SQLSTATE 53300 (default 32) */
  maxConnectionsPerAddress?: number;
}

export const PG_GATEWAY_DEFAULTS = {
  maxMessageBytes: 64 * 1024 * 1024,
  maxPreAuthMessageBytes: 8 * 1024,
  authTimeoutMs: 10_000,
  maxConnections: 256,
  maxConnectionsPerAddress: 32,
} as const;

export interface PgGateway {
  port: number;
  /** stops listening and closes every client connection */
  close(): Promise<void>;
}

/**
 * pg_cancel_backend / pg_terminate_backend. Who may signal whom: a session may signal any session of the
 * same user name that logged in with the same API key (on a gateway without keys, the same user name),
 * as PostgreSQL lets a role signal its own backends. A CancelRequest needs the target's secret instead.
 */
function signalBackend(sessions: ReadonlyMap<number, PgSession>, from: PgSession, pid: number, how: 'cancel' | 'terminate'): boolean {
  const target = sessions.get(pid);
  if (!target || !target.activity()) return false;
  const a = from.identity;
  const b = target.identity;
  if (a.user !== b.user || a.keyHash !== b.keyHash) {
    throw new StatementError('42501', `permission denied to ${how === 'cancel' ? 'cancel query' : 'terminate process'}: only sessions of the same user and API key may be signalled`);
  }
  if (how === 'cancel') target.cancel();
  else target.terminate();
  return true;
}

export async function startPgGateway(opts: PgGatewayOptions): Promise<PgGateway> {
  // '' = not set: the engine takes the range from the query's own predicates on time, else its default
  const defaultRange: TimeRangeText = { begin: opts.defaultRange?.begin ?? '', end: opts.defaultRange?.end ?? '' };
  const keys = opts.keys ?? staticKeyGate(opts.apiKeys ?? []);
  const sessions = new Map<number, PgSession>();
  const sockets = new Set<Socket>();
  const maxConnections = opts.maxConnections ?? PG_GATEWAY_DEFAULTS.maxConnections;
  const limits = new ConnectionLimits({
    total: maxConnections,
    perAddress: opts.maxConnectionsPerAddress ?? PG_GATEWAY_DEFAULTS.maxConnectionsPerAddress,
  });
  let refusing = 0;
  let nextPid = randomInt(1000, 30000);

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const address = socket.remoteAddress;
    const refusal = limits.acquire(address);
    if (refusal !== undefined) {
      // refused before anything is read or allocated; the socket lingers at most END_GRACE_MS so the client can
      // read why, unless a flood has so many lingering that they would be the new way to run out of descriptors
      if (refusing >= maxConnections) {
        socket.destroy();
        return;
      }
      refusing++;
      socket.once('close', () => refusing--);
      endSocket(socket, msg.errorResponse({ severity: 'FATAL', code: '53300', message: refusal }));
      return;
    }
    socket.on('close', () => limits.release(address));
    const pid = nextPid++;
    const session = new PgSession(socket, {
      engine: opts.engine,
      defaultRange,
      keys,
      pid,
      secret: randomInt(0, 2 ** 31 - 1),
      maxMessageBytes: opts.maxMessageBytes ?? PG_GATEWAY_DEFAULTS.maxMessageBytes,
      maxPreAuthMessageBytes: opts.maxPreAuthMessageBytes ?? PG_GATEWAY_DEFAULTS.maxPreAuthMessageBytes,
      authTimeoutMs: opts.authTimeoutMs ?? PG_GATEWAY_DEFAULTS.authTimeoutMs,
      onCancelRequest(targetPid, secret) {
        const target = sessions.get(targetPid);
        if (target && target.key.secret === secret) target.cancel();
      },
      sessions: () => [...sessions.values()].flatMap((x) => x.activity() ?? []),
      signalBackend: (from, targetPid, how) => signalBackend(sessions, from, targetPid, how),
      onClose: () => sessions.delete(pid),
    });
    sessions.set(pid, session);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });

  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sessions.values()) s.close();
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
