/**
 * `GET /sdk/tracing.js` from `sirius serve`: the built SDK as JavaScript any origin may load, revalidated
 * by ETag; `/sdk/tracing@<version>.js` immutable; another version or another file a 404 saying what exists;
 * an SDK that is not built a 503 saying how to build it.
 */
import assert from 'node:assert/strict';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startServer, type RunningServer } from '@sirius/server';
import { createSdkRoutes } from '../../../server/src/endpoints/sdk-route.js';
import { buildSdkIfStale } from './support.js';

const SDK = new URL('../../dist/browser/tracing.js', import.meta.url).pathname;

describe('GET /sdk/tracing.js', () => {
  let server: RunningServer;
  let dir: string;
  let version: string;
  before(async () => {
    buildSdkIfStale();
    version = (JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    dir = await mkdtemp(join(tmpdir(), 'sirius-sdk-route-'));
    server = await startServer({ roles: ['ingestion'], httpPort: 0, dataDir: dir, sqlConnectionString: 'memory://', objectStoreUri: 'memory://', quiet: true });
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('the built SDK, as JavaScript for any origin, with an ETag and a short max-age', async () => {
    const r = await fetch(`${server.url}/sdk/tracing.js`, { headers: { origin: 'https://game.example' } });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    assert.match(r.headers.get('cache-control') ?? '', /max-age=300/);
    const etag = r.headers.get('etag');
    assert.ok(etag);
    assert.equal(await r.text(), await readFile(SDK, 'utf8'));
    const again = await fetch(`${server.url}/sdk/tracing.js`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
  });

  test('the versioned URL is immutable; another version or file is a 404 that names what exists', async () => {
    const r = await fetch(`${server.url}/sdk/tracing@${version}.js`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('cache-control') ?? '', /immutable/);
    const old = await fetch(`${server.url}/sdk/tracing@0.0.1-old.js`);
    assert.equal(old.status, 404);
    assert.match(await old.text(), new RegExp(`serves @sirius/tracing ${version.replace(/\./g, '\\.')}`));
    const other = await fetch(`${server.url}/sdk/other.js`);
    assert.equal(other.status, 404);
    assert.match(await other.text(), /\/sdk\/tracing\.js/);
  });

  test('not built: 503 saying how to build it; a rebuild is served without a restart', async () => {
    const file = join(dir, 'tracing.js');
    const app = createSdkRoutes(file);
    const missing = await app.request('/tracing.js');
    assert.equal(missing.status, 503);
    assert.match(await missing.text(), /npm run build/);
    await writeFile(file, '/* @sirius/tracing 9.9.9 browser SDK */export const a = 1;');
    const built = await app.request('/tracing@9.9.9.js');
    assert.equal(built.status, 200);
    assert.match(await built.text(), /export const a = 1/);
  });
});
