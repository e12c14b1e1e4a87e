/**
 * Which web pages may send telemetry: CORS on the ingestion routes, from an origin allow-list
 * (`SIRIUS_INGESTION_ORIGINS`, `--ingestion-origins`).
 *
 * - No `Origin` header (programs, curl, other servers): untouched; CORS is a browser matter.
 * - Same origin as the server (a page it serves itself): untouched, browsers need no CORS for it.
 * - An allowed origin: preflights are answered (POST; content-type, authorization, content-encoding; cached
 *   for {@link PREFLIGHT_MAX_AGE_SECONDS}), and answers carry `Access-Control-Allow-Origin` and expose
 *   `Retry-After`, so the SDK in the page can read how long to wait after a 429.
 * - Any other origin: 403 with a reason, on the preflight (with no CORS headers, so the browser stops there)
 *   and on the request itself (before the key check and the body are read, so nothing is written).
 *
 * `*` allows every origin (each page on the web may then write with whatever key it holds).
 *
 * @example
 *   app.use('*', ingestionCors(parseOriginList('http://127.0.0.1:9090,https://game.example')));
 */
import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';

export const PREFLIGHT_MAX_AGE_SECONDS = 3600;

/**
 * Parses a comma-separated origin list (`https://game.example`, `http://127.0.0.1:9090`, or `*`) into
 * normalized origins; throws `Error` naming the first entry that is not an origin.
 */
export function parseOriginList(text: string | undefined): string[] {
  const out: string[] = [];
  for (const raw of (text ?? '').split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    if (entry === '*') {
      out.push('*');
      continue;
    }
    let url: URL | undefined;
    try {
      url = new URL(entry);
    } catch {
      url = undefined;
    }
    // an origin is scheme://host[:port] and nothing else: a path would never match what browsers send
    if (!url || !/^https?:$/.test(url.protocol) || url.pathname !== '/' || url.search || url.hash || url.username || /\/[^/]/.test(entry.slice(url.protocol.length + 2))) {
      throw new Error(`"${entry}" is not an origin: write scheme://host[:port], e.g. http://127.0.0.1:9090, or *`);
    }
    out.push(url.origin);
  }
  return [...new Set(out)];
}

export function ingestionCors(origins: readonly string[]): MiddlewareHandler {
  const any = origins.includes('*');
  const allowed = new Set(origins);
  const answer = cors({
    origin: any ? '*' : (origin) => (allowed.has(origin) ? origin : null),
    allowMethods: ['POST'],
    allowHeaders: ['content-type', 'authorization', 'content-encoding'],
    exposeHeaders: ['Retry-After'],
    maxAge: PREFLIGHT_MAX_AGE_SECONDS,
  });
  return async (c, next) => {
    const origin = c.req.header('origin');
    if (origin === undefined || origin === new URL(c.req.url).origin) return next();
    if (any || allowed.has(origin)) return answer(c, next);
    const hint = origins.length === 0 ? 'no page origin is allowed (SIRIUS_INGESTION_ORIGINS is empty)' : 'it is not in SIRIUS_INGESTION_ORIGINS';
    return c.json({ error: `origin ${origin} may not send telemetry here: ${hint}` }, 403);
  };
}
