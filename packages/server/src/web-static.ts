/**
 * The `web` role: the built web app from `packages/web/dist`, with the single-page-app fallback (any GET
 * that matches no file and no API route gets index.html, so client-side routes survive a reload).
 * When the app is not built, `/` says how to build it.
 */
import { readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'hono';

export const DEFAULT_WEB_DIST = fileURLToPath(new URL('../../web/dist', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

/** API prefixes that must answer 404 rather than the app when nothing matches */
const NOT_APP = ['/api/', '/ingestion/'];

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Sirius</title>
<h1>Sirius</h1><p>The server is running, but the web app is not built.</p>
<p>Build it with <code>npm run build -w @sirius/web</code> (it lands in <code>packages/web/dist</code>), then reload.</p>`;

export function webHandler(distDir = DEFAULT_WEB_DIST) {
  return async (c: Context) => {
    const path = decodeURIComponentSafe(c.req.path);
    if (path === null || NOT_APP.some((p) => path.startsWith(p)) || path === '/api' || path === '/ingestion') return c.notFound();
    if (!existsSync(join(distDir, 'index.html'))) {
      return path === '/' ? c.html(NOT_BUILT) : c.notFound();
    }
    const file = await findFile(distDir, path);
    if (file) return sendFile(c, file, path.startsWith('/assets/'));
    // a missing asset (has an extension) is a real 404; anything else is a client-side route
    if (extname(path) !== '') return c.notFound();
    return sendFile(c, join(distDir, 'index.html'), false);
  };
}

async function findFile(root: string, urlPath: string): Promise<string | null> {
  const rel = normalize(urlPath).replace(/^([/\\])+/, '');
  const full = join(root, rel);
  if (full !== root && !full.startsWith(root + sep)) return null;
  const s = await stat(full).catch(() => null);
  if (s?.isFile()) return full;
  if (s?.isDirectory()) {
    const index = join(full, 'index.html');
    if ((await stat(index).catch(() => null))?.isFile()) return index;
  }
  return null;
}

async function sendFile(c: Context, file: string, immutable: boolean): Promise<Response> {
  const body = await readFile(file);
  return c.body(body, 200, {
    'Content-Type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    // Vite puts content hashes in asset names; index.html must always be revalidated
    'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
}

function decodeURIComponentSafe(p: string): string | null {
  try {
    const d = decodeURIComponent(p);
    return d.includes('\0') ? null : d;
  } catch {
    return null;
  }
}
