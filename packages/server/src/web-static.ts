/**
 * The `web` role: the built web app, with the single-page-app fallback (any GET that matches no file and no
 * API route gets index.html, so client-side routes survive a reload). The app is looked for, at each request
 * (so a build made while the server runs is picked up), in the repository's `packages/web/dist`, then in
 * the copy `npm run build` puts in the server's own `dist/web` (what an installed @sirius/server serves).
 * When neither exists, every app URL says how to build it.
 */
import { readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'hono';

/** `packages/web/dist`, seen from `src/` (tsx) and from `dist/` (built) alike */
export const DEFAULT_WEB_DIST = fileURLToPath(new URL('../../web/dist', import.meta.url));
/** the copy inside the server package: `dist/web` next to the built modules */
export const BUNDLED_WEB_DIST = fileURLToPath(new URL('../dist/web', import.meta.url));

/** the first folder holding a built app, or null */
export function findWebDist(candidates: readonly string[] = [DEFAULT_WEB_DIST, BUNDLED_WEB_DIST]): string | null {
  return candidates.find((d) => existsSync(join(d, 'index.html'))) ?? null;
}

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
<p>Build it with <code>npm run build</code> at the repository root (<code>npm ci</code> and <code>npm start</code> do it
too; it lands in <code>packages/web/dist</code>), then reload.</p>`;

/** `distDir`: serve this folder only (tests); default: the first of the repository's build and the bundled copy */
export function webHandler(distDir?: string) {
  return async (c: Context) => {
    const path = decodeURIComponentSafe(c.req.path);
    if (path === null || NOT_APP.some((p) => path.startsWith(p)) || path === '/api' || path === '/ingestion') return c.notFound();
    const dist = distDir === undefined ? findWebDist() : findWebDist([distDir]);
    if (dist === null) {
      // an app URL (no file extension) gets the explanation rather than a bare 404
      return extname(path) === '' ? c.html(NOT_BUILT) : c.notFound();
    }
    const file = await findFile(dist, path);
    if (file) return sendFile(c, file, path.startsWith('/assets/'));
    // a missing asset (has an extension) is a real 404; anything else is a client-side route
    if (extname(path) !== '') return c.notFound();
    return sendFile(c, join(dist, 'index.html'), false);
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
