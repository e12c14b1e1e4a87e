/**
 * Test support: a real TCP proxy on loopback in front of a real server (PostgreSQL, S3…), to make network
 * faults without mocks.
 *  - `partition()`: like a cable pulled — connections stay open and new ones are accepted, but no byte gets
 *    through either way; held bytes are delivered on `heal()`, as TCP retransmission would.
 *  - `stop()`: the server is gone — every connection is reset and new ones are refused; `start()` listens
 *    again on the same port.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  port: number;
  partition(): void;
  heal(): void;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

interface Pipe {
  client: Socket;
  upstream: Socket | undefined;
  toUpstream: Buffer[];
  toClient: Buffer[];
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  let partitioned = false;
  const pipes = new Set<Pipe>();

  const openUpstream = (p: Pipe) => {
    const up = connect(targetPort, targetHost);
    p.upstream = up;
    up.on('data', (d: Buffer) => (partitioned ? p.toClient.push(d) : p.client.write(d)));
    up.on('error', () => p.client.destroy());
    up.on('close', () => p.client.destroy());
    flush(p);
  };
  const flush = (p: Pipe) => {
    if (p.upstream && !p.upstream.destroyed) for (const d of p.toUpstream.splice(0)) p.upstream.write(d);
    if (!p.client.destroyed) for (const d of p.toClient.splice(0)) p.client.write(d);
  };
  const onConnection = (client: Socket) => {
    const p: Pipe = { client, upstream: undefined, toUpstream: [], toClient: [] };
    pipes.add(p);
    client.on('data', (d: Buffer) => (partitioned || !p.upstream ? p.toUpstream.push(d) : p.upstream.write(d)));
    client.on('error', () => p.upstream?.destroy());
    client.on('close', () => {
      p.upstream?.destroy();
      pipes.delete(p);
    });
    // during a partition even the handshake with the server waits
    if (!partitioned) openUpstream(p);
  };

  let server: Server = createServer(onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const resetAll = () => {
    for (const p of pipes) {
      p.client.resetAndDestroy();
      p.upstream?.destroy();
    }
    pipes.clear();
  };

  return {
    port,
    partition() {
      partitioned = true;
    },
    heal() {
      partitioned = false;
      for (const p of pipes) {
        if (!p.upstream) openUpstream(p);
        else flush(p);
      }
    },
    async stop() {
      resetAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    async start() {
      server = createServer(onConnection);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => resolve());
      });
    },
    async close() {
      partitioned = false;
      resetAll();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
