/**
 * A loopback HTTP proxy that forwards every request as is (method, headers, body; CORS preflights included)
 * and records when each arrived, when its answer left, its status and its `Retry-After`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Exchange {
  method: string;
  /** ms (performance.now) the request arrived at the proxy, and its answer left */
  arrived: number;
  answered: number;
  status: number;
  retryAfterMs: number | undefined;
}

export interface RecordingProxy {
  url: string;
  log: Exchange[];
  close(): Promise<void>;
}

export async function recordingProxy(target: string): Promise<RecordingProxy> {
  const log: Exchange[] = [];
  const server = http.createServer(async (req, res) => {
    const arrived = performance.now();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (k !== 'host' && k !== 'connection' && typeof v === 'string') headers.set(k, v);
    try {
      const upstream = await fetch(target + req.url, { method: req.method, headers, body: chunks.length > 0 ? Buffer.concat(chunks) : undefined });
      const body = Buffer.from(await upstream.arrayBuffer());
      const out: Record<string, string> = {};
      upstream.headers.forEach((v, k) => {
        if (k !== 'content-encoding' && k !== 'content-length' && k !== 'transfer-encoding') out[k] = v;
      });
      res.writeHead(upstream.status, out).end(body);
      const retryAfter = upstream.headers.get('retry-after');
      log.push({ method: req.method ?? '', arrived, answered: performance.now(), status: upstream.status, retryAfterMs: retryAfter === null ? undefined : Number(retryAfter) * 1000 });
    } catch {
      req.socket.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    log,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/**
 * For each 429: the requests (other than itself) that arrived within the wait it announced. A client that
 * honours Retry-After sends none; one may have been on its way before the answer reached the client.
 */
export function sentDuringPause(log: Exchange[]): { refusal: Exchange; during: Exchange[] }[] {
  return log
    .filter((e) => e.status === 429)
    .map((r) => ({ refusal: r, during: log.filter((e) => e !== r && e.method !== 'OPTIONS' && e.arrived > r.answered && e.arrived < r.answered + r.retryAfterMs! - 5) }));
}
