/**
 * `npm run demo:browser [-- --port 9090 --host 127.0.0.1]`: builds the browser game (its TypeScript to
 * JavaScript, in memory) and serves it. The page loads the SDK from the Sirius server at
 * `SIRIUS_TELEMETRY_URL` (default http://127.0.0.1:9000) and sends there, with `SIRIUS_INGESTION_KEY` if set;
 * both are written into the page. Prints the URL to open, and checks that the server lets this page's origin
 * send (SIRIUS_INGESTION_ORIGINS), saying how to start it if not.
 *
 * @example
 *   const game = await startGameServer({ port: 0, telemetryUrl: server.url });
 *   await page.goto(`${game.url}/?hitches=3&seconds=10`);
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import ts from 'typescript';

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const DEFAULT_GAME_PORT = 9090;

export interface GameServerOptions {
  port?: number;
  host?: string;
  /** the Sirius server the page loads the SDK from and sends to */
  telemetryUrl?: string;
  /** an ingestion key written into the page (write-only; see docs/security.md) */
  apiKey?: string;
}

export interface GameServer {
  url: string;
  close(): Promise<void>;
}

/** src/*.ts as the JavaScript modules the page imports: `/game.js` from src/game.ts, and so on */
export function buildGame(): Map<string, string> {
  const out = new Map<string, string>();
  const dir = join(HERE, 'src');
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const source = readFileSync(join(dir, name), 'utf8');
    const { outputText, diagnostics } = ts.transpileModule(source, {
      fileName: name,
      reportDiagnostics: true,
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022, sourceMap: false },
    });
    if (diagnostics?.length) throw new Error(`${name}: ${ts.flattenDiagnosticMessageText(diagnostics[0]!.messageText, '\n')}`);
    out.set(`/${name.replace(/\.ts$/, '.js')}`, outputText);
  }
  return out;
}

export async function startGameServer(o: GameServerOptions = {}): Promise<GameServer> {
  const modules = buildGame();
  const config = { telemetryUrl: (o.telemetryUrl ?? 'http://127.0.0.1:9000').replace(/\/+$/, ''), apiKey: o.apiKey ?? '' };
  // JSON inside a <script>: `<` escaped so no value can close the element
  const script = `<script>window.SIRIUS_GAME = ${JSON.stringify(config).replace(/</g, '\\u003c')};</script>`;
  const html = readFileSync(join(HERE, 'index.html'), 'utf8').replace('<!--sirius-config-->', script);
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const js = modules.get(path);
    if (req.method !== 'GET' && req.method !== 'HEAD') res.writeHead(405, { allow: 'GET, HEAD' }).end();
    else if (path === '/' || path === '/index.html') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html);
    else if (js !== undefined) res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' }).end(js);
    else if (path === '/favicon.ico') res.writeHead(204).end();
    else res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}\n`);
  });
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? DEFAULT_GAME_PORT, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** What the Sirius server says to a page of `origin`: a sentence for the console. */
export async function checkServer(telemetryUrl: string, origin: string): Promise<{ ok: boolean; message: string }> {
  const allow = `SIRIUS_INGESTION_ORIGINS=${origin} npm start   (npm start allows http://127.0.0.1:9090 and http://localhost:9090 by default)`;
  try {
    const r = await fetch(`${telemetryUrl}/ingestion/insert_block`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      signal: AbortSignal.timeout(5000),
    });
    if (r.headers.get('access-control-allow-origin')) return { ok: true, message: `${telemetryUrl} accepts telemetry from ${origin}` };
    return { ok: false, message: `${telemetryUrl} does not let pages of ${origin} send (${r.status}); start it with:\n  ${allow}` };
  } catch {
    return { ok: false, message: `no Sirius server answers at ${telemetryUrl}; start one with:\n  ${allow}` };
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { port: { type: 'string' }, host: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(`Usage: npm run demo:browser [-- --port ${DEFAULT_GAME_PORT} --host 127.0.0.1]
Serves the canvas game example. It loads the browser SDK from SIRIUS_TELEMETRY_URL (default http://127.0.0.1:9000)
and sends there, with SIRIUS_INGESTION_KEY if set. The Sirius server must allow the game's origin:
SIRIUS_INGESTION_ORIGINS=http://127.0.0.1:${DEFAULT_GAME_PORT} (npm start does for ports ${DEFAULT_GAME_PORT} on 127.0.0.1 and localhost).`);
    process.exit(0);
  }
  const port = values.port === undefined ? DEFAULT_GAME_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`demo:browser: bad --port "${values.port}": want 0..65535`);
    process.exit(2);
  }
  const telemetryUrl = (process.env.SIRIUS_TELEMETRY_URL || 'http://127.0.0.1:9000').replace(/\/+$/, '');
  let game: GameServer;
  try {
    game = await startGameServer({ port, host: values.host, telemetryUrl, apiKey: process.env.SIRIUS_INGESTION_KEY });
  } catch (err) {
    console.error(`demo:browser: cannot serve on port ${port}: ${(err as Error).message} (try --port <another>)`);
    process.exit(1);
  }
  console.log(`browser game: open ${game.url}/   (sends to ${telemetryUrl}; ?hitches=3 forces three slow frames)`);
  const check = await checkServer(telemetryUrl, game.url);
  console.log(check.ok ? check.message : `warning: ${check.message}`);
  process.once('SIGINT', () => void game.close().then(() => process.exit(0)));
  process.once('SIGTERM', () => void game.close().then(() => process.exit(0)));
}
