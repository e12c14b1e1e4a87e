/**
 * A loopback HTTP proxy that answers 500 at random (seeded): sometimes instead of forwarding, sometimes
 * after forwarding (the server stored the block but the client hears a failure and retries it).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** mulberry32: a small seeded generator, so a failing run can be replayed */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FlakyProxy {
  url: string;
  stats: { forwarded: number; failedBefore: number; failedAfter: number };
  close(): Promise<void>;
}

export async function startFlakyProxy(target: string, seed: number, pBefore = 0.2, pAfter = 0.15): Promise<FlakyProxy> {
  const random = seeded(seed);
  const stats = { forwarded: 0, failedBefore: 0, failedAfter: 0 };
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const r = random();
    if (r < pBefore) {
      stats.failedBefore++;
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"injected"}');
      return;
    }
    const upstream = await fetch(target + req.url, {
      method: req.method,
      headers: { 'content-type': req.headers['content-type'] ?? 'application/octet-stream' },
      body: req.method === 'POST' ? Buffer.concat(chunks) : undefined,
    });
    const body = Buffer.from(await upstream.arrayBuffer());
    stats.forwarded++;
    if (r < pBefore + pAfter) {
      stats.failedAfter++;
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"injected after forwarding"}');
      return;
    }
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
