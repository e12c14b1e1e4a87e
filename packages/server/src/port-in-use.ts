/**
 * A port the server cannot listen on, said in one line: which port, which of the server's endpoints wanted
 * it, and the flag or environment variable that moves it. gRPC reports a taken port as a generic bind
 * failure, so a failed listen is checked by trying the port with a plain listener.
 *
 * @example
 *   try { await listenFlight(); } catch (err) { throw await explainListenError(err, 'flight', host, port); }
 */
import { createServer } from 'node:net';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

export type Endpoint = 'http' | 'flight' | 'pg';

export const ENDPOINTS: Record<Endpoint, { what: string; flag: string; env: string }> = {
  http: { what: 'HTTP (ingestion, query API, web app)', flag: '--http-port', env: 'SIRIUS_HTTP_PORT' },
  flight: { what: 'Arrow Flight SQL', flag: '--flight-port', env: 'SIRIUS_FLIGHT_PORT' },
  pg: { what: 'the PostgreSQL wire gateway', flag: '--pg-port', env: 'SIRIUS_PG_PORT' },
};

export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(readonly endpoint: Endpoint, readonly host: string, readonly port: number, readonly holder?: string) {
    const e = ENDPOINTS[endpoint];
    const off = endpoint === 'http' ? '' : ', off to disable';
    super(
      `port ${port} on ${host} is already in use${holder ? ` by ${holder}` : ''}, so ${e.what} cannot listen there: ` +
        `choose another with ${e.flag} <port> or ${e.env} (0 = any free port${off}), or stop the process holding it`,
    );
  }
}

/** `err` (from a failed listen) as a `PortInUseError` when the port is taken, else `err` itself */
export async function explainListenError(err: unknown, endpoint: Endpoint, host: string, port: number): Promise<unknown> {
  if (err instanceof PortInUseError || port === 0) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE' || (code !== 'EACCES' && (await isTaken(host, port)))) return new PortInUseError(endpoint, host, port, listenerOf(port));
  return err;
}

/**
 * The process listening on a TCP port, as `process <pid> (<command line>)`, when Linux's /proc says (the
 * listening socket's inode, then the process holding it); undefined anywhere else or when it cannot be seen.
 */
export function listenerOf(port: number): string | undefined {
  try {
    const inodes = new Set<string>();
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      let text: string;
      try {
        text = readFileSync(table, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        // local address "0100007F:1F90", state 0A = LISTEN, inode in column 10
        if (f.length > 9 && f[3] === '0A' && parseInt(f[1]!.split(':')[1]!, 16) === port) inodes.add(f[9]!);
      }
    }
    if (inodes.size === 0) return undefined;
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      let fds: string[];
      try {
        fds = readdirSync(`/proc/${pid}/fd`);
      } catch {
        continue; // gone, or not ours to look at
      }
      for (const fd of fds) {
        let target: string;
        try {
          target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          continue;
        }
        const m = /^socket:\[(\d+)\]$/.exec(target);
        if (m && inodes.has(m[1]!)) {
          const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
          return `process ${pid}${cmd ? ` (${cmd.length > 80 ? `${cmd.slice(0, 77)}...` : cmd})` : ''}`;
        }
      }
    }
  } catch {
    // best effort: the message is complete without it
  }
  return undefined;
}

function isTaken(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'EADDRINUSE'));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(false)));
  });
}
