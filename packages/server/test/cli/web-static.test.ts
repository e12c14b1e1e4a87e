import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../src/serve.js';

/** GET with node:http, so paths like /../x reach the server unnormalized */
function rawGet(url: string, path: string): Promise<{ status: number; body: string; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(url + path, { method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body, type: res.headers['content-type'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the web role', () => {
  let dir: string;
  let built: RunningServer;
  let unbuilt: RunningServer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sirius-web-'));
    const dist = join(dir, 'dist');
    await mkdir(join(dist, 'assets'), { recursive: true });
    await writeFile(join(dist, 'index.html'), '<!doctype html><title>app</title>');
    await writeFile(join(dist, 'assets', 'app-1234.js'), 'console.log(1)');
    await writeFile(join(dir, 'secret.txt'), 'outside dist');
    const common = { roles: ['web', 'ingestion'] as const, httpPort: 0, sqlConnectionString: 'memory://', objectStoreUri: 'memory://', quiet: true };
    built = await startServer({ ...common, roles: [...common.roles], dataDir: dir, webDistDir: dist });
    unbuilt = await startServer({ ...common, roles: [...common.roles], dataDir: dir, webDistDir: join(dir, 'missing') });
  });
  after(async () => {
    await built?.close();
    await unbuilt?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('serves index.html at / and files with their types', async () => {
    const root = await rawGet(built.url, '/');
    assert.equal(root.status, 200);
    assert.match(root.body, /<title>app/);
    assert.match(root.type!, /text\/html/);
    const js = await rawGet(built.url, '/assets/app-1234.js');
    assert.equal(js.status, 200);
    assert.match(js.type!, /javascript/);
  });

  test('client-side routes get index.html; missing files and API paths get 404', async () => {
    const route = await rawGet(built.url, '/processes/1234/timeline');
    assert.equal(route.status, 200);
    assert.match(route.body, /<title>app/);
    assert.equal((await rawGet(built.url, '/assets/missing.js')).status, 404);
    assert.equal((await rawGet(built.url, '/api/nothing')).status, 404);
    assert.equal((await rawGet(built.url, '/ingestion/nothing')).status, 404);
  });

  test('paths cannot leave the dist folder', async () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
      const r = await rawGet(built.url, p);
      assert.ok(!r.body.includes('outside dist'), p);
    }
  });

  test('other routes still win over the app', async () => {
    assert.deepEqual(await (await fetch(`${built.url}/health`)).json(), { status: 'alive' });
  });

  test('when the app is not built, / and app routes say how to build it; assets stay 404', async () => {
    for (const p of ['/', '/processes', '/process/1234/timeline']) {
      const r = await rawGet(unbuilt.url, p);
      assert.equal(r.status, 200, p);
      assert.match(r.body, /npm run build/, p);
    }
    assert.equal((await rawGet(unbuilt.url, '/assets/app-1234.js')).status, 404);
    assert.equal((await rawGet(unbuilt.url, '/api/nothing')).status, 404);
  });
});
