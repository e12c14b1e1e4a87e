/**
 * `GET /sdk/tracing.js`: the browser SDK of @sirius/tracing as one ES module, for pages with no bundler
 * (`import * as sirius from 'http://<server>/sdk/tracing.js'`). A public script: any origin may load it
 * (`Access-Control-Allow-Origin: *`, which its sender Web Worker also needs, as it imports the SDK by URL).
 * Cached by version: `/sdk/tracing.js` is revalidated every 5 minutes (ETag), `/sdk/tracing@<version>.js`
 * is immutable; another version there is a 404 naming the one served. The file is the one
 * `packages/tracing/scripts/build-browser.mjs` writes (the root `prepare`/`npm start` build it), found at each
 * request next to this package (repository or installed), so a rebuild is served without a restart.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Hono, type Context } from 'hono';

/** `@sirius/tracing`'s built SDK, seen from `src/endpoints/` and `dist/endpoints/` alike, in the repository and installed */
export const DEFAULT_SDK_FILE = fileURLToPath(new URL('../../../tracing/dist/browser/tracing.js', import.meta.url));

const NOT_BUILT =
  'the browser SDK is not built: run `npm run build` (or `node packages/tracing/scripts/build-browser.mjs`) at the repository root';

interface Loaded {
  mtimeMs: number;
  size: number;
  body: Uint8Array;
  etag: string;
  version: string;
}

export function createSdkRoutes(file: string = DEFAULT_SDK_FILE): Hono {
  let cached: Loaded | undefined;

  async function load(): Promise<Loaded | undefined> {
    const s = await stat(file).catch(() => undefined);
    if (s === undefined) return undefined;
    if (cached !== undefined && cached.mtimeMs === s.mtimeMs && cached.size === s.size) return cached;
    const body = new Uint8Array(await readFile(file));
    // the build writes `/* @sirius/tracing <version> browser SDK */` first
    const head = new TextDecoder().decode(body.subarray(0, 120));
    const version = /@sirius\/tracing ([\w.+-]+) browser SDK/.exec(head)?.[1] ?? '0.0.0';
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    cached = { mtimeMs: s.mtimeMs, size: s.size, body, etag, version };
    return cached;
  }

  const headers = (sdk: Loaded, cacheControl: string): Record<string, string> => ({
    'Content-Type': 'text/javascript; charset=utf-8',
    'Cache-Control': cacheControl,
    ETag: sdk.etag,
    'Access-Control-Allow-Origin': '*',
    'Cross-Origin-Resource-Policy': 'cross-origin',
    'X-Content-Type-Options': 'nosniff',
  });

  const send = (c: Context, sdk: Loaded, cacheControl: string): Response => {
    const h = headers(sdk, cacheControl);
    if (c.req.header('if-none-match') === sdk.etag) return c.body(null, 304, h);
    return c.body(sdk.body as unknown as ArrayBuffer, 200, h);
  };

  const app = new Hono();
  app.get('/:file', async (c) => {
    const name = c.req.param('file');
    const versioned = /^tracing@(.+)\.js$/.exec(name);
    if (name !== 'tracing.js' && versioned === null) {
      return c.text(`no such SDK file: ${name} (the browser SDK is /sdk/tracing.js or /sdk/tracing@<version>.js)`, 404);
    }
    const sdk = await load();
    if (sdk === undefined) return c.text(NOT_BUILT, 503, { 'Retry-After': '60', 'Access-Control-Allow-Origin': '*' });
    if (versioned === null) return send(c, sdk, 'public, max-age=300, must-revalidate');
    if (versioned[1] !== sdk.version) {
      return c.text(`this server serves @sirius/tracing ${sdk.version}, not ${versioned[1]}: load /sdk/tracing@${sdk.version}.js or /sdk/tracing.js`, 404, {
        'Access-Control-Allow-Origin': '*',
      });
    }
    return send(c, sdk, 'public, max-age=31536000, immutable');
  });
  return app;
}
