/**
 * What the browser SDK tests share: the SDK built when stale, Debian Chromium (skipped with a reason when
 * absent), a loopback page server on an origin of its own (so pages send cross-origin, as real ones do), and
 * a switchable loopback proxy in front of the ingestion server (down: every request, preflights included,
 * fails at the network level; up: forwarded as is).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http, { type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
export const BROWSER_SKIP: string | false = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is not installed: skipping the browser SDK tests (apt-get install -y chromium)`;
if (BROWSER_SKIP) console.log(BROWSER_SKIP);

/** Builds dist/browser/tracing.js when a source is newer (cheap otherwise). */
export function buildSdkIfStale(): void {
  const script = new URL('../../scripts/build-browser.mjs', import.meta.url).pathname;
  const r = spawnSync(process.execPath, [script, '--if-stale', '--quiet'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the browser SDK failed: ${r.stderr}`);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

export interface Loopback {
  origin: string;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closer(server: Server, sockets: Set<Socket>): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
}

function tracked(server: Server): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return sockets;
}

/**
 * Empty HTML pages at any path; `/csp/…` pages forbid workers (`worker-src 'none'`); `/isolated/…` pages are
 * cross-origin isolated (COOP + COEP: SharedArrayBuffer, and Chromium's finer `performance.now()`);
 * `/app/tracing.bundler.js` is the SDK's bundlers' build, as an app's bundle would serve it from its own origin.
 */
export async function pageServer(): Promise<Loopback> {
  const server = http.createServer((req, res) => {
    if (req.url === '/app/tracing.bundler.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(new URL('../../dist/browser/tracing.bundler.js', import.meta.url)));
      return;
    }
    const headers: Record<string, string> = { 'content-type': 'text/html; charset=utf-8' };
    if (req.url?.startsWith('/csp')) headers['content-security-policy'] = "worker-src 'none'";
    if (req.url?.startsWith('/isolated')) {
      headers['cross-origin-opener-policy'] = 'same-origin';
      headers['cross-origin-embedder-policy'] = 'require-corp';
    }
    res.writeHead(200, headers).end(`<!doctype html><title>${req.url}</title><body>page ${req.url}</body>`);
  });
  const sockets = tracked(server);
  return { origin: await listen(server), close: closer(server, sockets) };
}

export interface SwitchProxy extends Loopback {
  up: boolean;
  /** requests that reached the proxy while down */
  refused: number;
}

/** A forwarding proxy to `target` that resets every connection while `up` is false. */
export async function switchProxy(target: string): Promise<SwitchProxy> {
  const proxy = { up: false, refused: 0 } as SwitchProxy;
  const server = http.createServer(async (req, res) => {
    if (!proxy.up) {
      proxy.refused++;
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (k !== 'host' && k !== 'connection' && typeof v === 'string') headers.set(k, v);
    try {
      const r = await fetch(target + req.url, { method: req.method, headers, body: chunks.length > 0 ? Buffer.concat(chunks) : undefined });
      const out: Record<string, string> = {};
      r.headers.forEach((v, k) => {
        if (k !== 'content-encoding' && k !== 'content-length' && k !== 'transfer-encoding') out[k] = v;
      });
      res.writeHead(r.status, out).end(Buffer.from(await r.arrayBuffer()));
    } catch {
      req.socket.destroy();
    }
  });
  const sockets = tracked(server);
  proxy.origin = await listen(server);
  proxy.close = closer(server, sockets);
  return proxy;
}
