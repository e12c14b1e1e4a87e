/**
 * A port the server cannot listen on, said in one line: which port, which of the server's endpoints wanted
 * it, and the flag or environment variable that moves it. gRPC reports a taken port as a generic bind
 * failure, so a failed listen is checked by trying the port with a plain listener.
 *
 * @example
 *   try { await listenFlight(); } catch (err) { throw await explainListenError(err, 'flight', host, port); }
 */
import { createServer } from 'node:net';

export type Endpoint = 'http' | 'flight' | 'pg';

export const ENDPOINTS: Record<Endpoint, { what: string; flag: string; env: string }> = {
  http: { what: 'HTTP (ingestion, query API, web app)', flag: '--http-port', env: 'SIRIUS_HTTP_PORT' },
  flight: { what: 'Arrow Flight SQL', flag: '--flight-port', env: 'SIRIUS_FLIGHT_PORT' },
  pg: { what: 'the PostgreSQL wire gateway', flag: '--pg-port', env: 'SIRIUS_PG_PORT' },
};

export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(readonly endpoint: Endpoint, readonly host: string, readonly port: number) {
    const e = ENDPOINTS[endpoint];
    const off = endpoint === 'http' ? '' : ', off to disable';
    super(
      `port ${port} on ${host} is already in use, so ${e.what} cannot listen there: ` +
        `choose another with ${e.flag} <port> or ${e.env} (0 = any free port${off}), or stop the process holding it`,
    );
  }
}

/** `err` (from a failed listen) as a `PortInUseError` when the port is taken, else `err` itself */
export async function explainListenError(err: unknown, endpoint: Endpoint, host: string, port: number): Promise<unknown> {
  if (err instanceof PortInUseError || port === 0) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE' || (code !== 'EACCES' && (await isTaken(host, port)))) return new PortInUseError(endpoint, host, port);
  return err;
}

function isTaken(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'EADDRINUSE'));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(false)));
  });
}
