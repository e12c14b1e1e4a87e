/**
 * A raw TCP client for attack tests: it writes exactly the bytes it is told to, when it is told to, records
 * what the server sends back, and says when the server has closed the connection.
 *
 * @example
 *   const c = await rawConnect(port);
 *   c.socket.write('GET /health HTTP/1.1\r\n');   // and stall
 *   await c.closed;                                 // the server gave up on us
 */
import { connect, type Socket } from 'node:net';

export interface RawClient {
  socket: Socket;
  /** everything received so far */
  received(): Buffer;
  /** settles when the connection is closed, however (FIN, reset, or our own destroy) */
  closed: Promise<void>;
  /** true once closed */
  isClosed(): boolean;
}

export function rawConnect(port: number, opts: { localAddress?: string } = {}): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress: opts.localAddress });
    const chunks: Buffer[] = [];
    let done = false;
    socket.setNoDelay(true);
    socket.on('data', (c: Buffer) => chunks.push(c));
    // a reset or a write after the server closed is part of being refused, not a test failure
    socket.on('error', () => undefined);
    const closed = new Promise<void>((r) => socket.once('close', () => {
      done = true;
      r();
    }));
    socket.once('connect', () => resolve({ socket, received: () => Buffer.concat(chunks), closed, isClosed: () => done }));
    socket.once('error', reject);
  });
}

/** resolves with `what`'s result once it is truthy; fails after `ms` */
export async function waitFor<T>(what: () => T | Promise<T>, ms: number, label: string): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await what();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** settles with true when `p` settles within `ms`, false otherwise */
export function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    p.then(() => {
      clearTimeout(t);
      resolve(true);
    }, () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}
