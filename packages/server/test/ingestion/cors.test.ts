/**
 * CORS on the ingestion routes: plain HTTP checks of the preflight and of each route for an allowed origin,
 * another origin, no origin; then the real thing, a page on another loopback origin in Debian Chromium
 * posting a process with a key (so the browser sends a preflight), allowed and refused.
 */
import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import type { RunningServer } from '../../src/serve.js';
import { parseOriginList } from '../../src/ingestion/cors.js';
import { pgBackends } from '../support/pg.js';
import { makeBlock, makeProcess, makeStream, useIngestionServer } from './fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const BROWSER_SKIP = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed: skipping the CORS browser test (apt-get install -y chromium)`;
if (BROWSER_SKIP) console.log(BROWSER_SKIP);
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const KEY = 'page-key';

test('origin lists: normalized, bad entries named', () => {
  assert.deepEqual(parseOriginList(' http://127.0.0.1:9090 , https://Game.Example/ ,,'), ['http://127.0.0.1:9090', 'https://game.example']);
  assert.deepEqual(parseOriginList('*'), ['*']);
  assert.deepEqual(parseOriginList(undefined), []);
  for (const bad of ['game.example', 'http://x/path', 'ftp://x', 'http://x?q=1']) {
    assert.throws(() => parseOriginList(bad), (e: Error) => e.message.includes(bad) && /not an origin/.test(e.message), bad);
  }
});

/** A loopback page server: `/` answers an empty HTML page, so a browser has that origin. */
async function pageServer(): Promise<{ origin: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>page</title>'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

for (const backend of pgBackends) {
  describe(`ingestion CORS (${backend.name})`, { skip: backend.skip }, () => {
    let server: RunningServer;
    let allowedPage: Awaited<ReturnType<typeof pageServer>>;
    let otherPage: Awaited<ReturnType<typeof pageServer>>;
    before(async () => {
      allowedPage = await pageServer();
      otherPage = await pageServer();
    });
    after(async () => {
      await allowedPage.close();
      await otherPage.close();
    });
    useIngestionServer(
      backend,
      'sirius-cors-',
      () => ({ objectStoreUri: 'memory://', ingestionKeys: [KEY], ingestionOrigins: [allowedPage.origin, 'https://game.example'] }),
      (s) => (server = s),
    );

    const processCount = async (id: string) =>
      Number((await server.lake.sql.query<{ n: string }>('SELECT count(*) AS n FROM processes WHERE process_id = $1', [id]))[0]!.n);

    test('the preflight of an allowed origin is answered with methods, headers and max-age', async () => {
      for (const path of ['/ingestion/insert_block', '/v1/logs', '/ingestion/otlp/v1/traces']) {
        const r = await fetch(server.url + path, {
          method: 'OPTIONS',
          headers: { origin: 'https://game.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
        });
        assert.equal(r.status, 204, path);
        assert.equal(r.headers.get('access-control-allow-origin'), 'https://game.example');
        assert.match(r.headers.get('access-control-allow-methods') ?? '', /POST/);
        const allowHeaders = (r.headers.get('access-control-allow-headers') ?? '').toLowerCase();
        for (const h of ['content-type', 'authorization', 'content-encoding']) assert.ok(allowHeaders.includes(h), `${path}: ${allowHeaders}`);
        assert.ok(Number(r.headers.get('access-control-max-age')) > 0);
      }
    });

    test('an allowed origin ingests, and the answer lets the page read it', async () => {
      const p = makeProcess();
      const s = makeStream(p.process_id);
      const headers = { origin: 'https://game.example', authorization: `Bearer ${KEY}` };
      for (const [path, body] of [['insert_process', JSON.stringify(p)], ['insert_stream', JSON.stringify(s)], ['insert_block', makeBlock(s).body]] as const) {
        const r = await fetch(`${server.url}/ingestion/${path}`, { method: 'POST', body: body as BodyInit, headers });
        assert.equal(r.status, 200, `${path}: ${await r.text()}`);
        assert.equal(r.headers.get('access-control-allow-origin'), 'https://game.example');
        assert.match(r.headers.get('access-control-expose-headers') ?? '', /Retry-After/i);
      }
      assert.equal(await processCount(p.process_id), 1);
    });

    test('another origin gets 403 with a reason on the preflight (no CORS headers) and on every route, and nothing is written', async () => {
      const pre = await fetch(`${server.url}/ingestion/insert_process`, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      });
      assert.equal(pre.status, 403);
      assert.equal(pre.headers.get('access-control-allow-origin'), null);
      assert.equal(pre.headers.get('access-control-allow-methods'), null);
      const p = makeProcess();
      const s = makeStream(p.process_id);
      const routes = [
        ['/ingestion/insert_process', JSON.stringify(p), 'application/json'],
        ['/ingestion/insert_stream', JSON.stringify(s), 'application/json'],
        ['/ingestion/insert_block', makeBlock(s).body, 'application/octet-stream'],
        ['/v1/logs', '{"resourceLogs":[]}', 'application/json'],
        ['/ingestion/otlp/v1/logs', '{"resourceLogs":[]}', 'application/json'],
      ] as const;
      for (const origin of ['https://evil.example', 'null', 'https://game.example.evil.example']) {
        for (const [path, body, type] of routes) {
          // a valid key, even: the origin is what is refused
          const r = await fetch(server.url + path, { method: 'POST', body: body as BodyInit, headers: { origin, authorization: `Bearer ${KEY}`, 'content-type': type } });
          assert.equal(r.status, 403, `${origin} ${path}`);
          assert.match(((await r.json()) as { error: string }).error, /origin .* may not send telemetry here.*SIRIUS_INGESTION_ORIGINS/);
          assert.equal(r.headers.get('access-control-allow-origin'), null);
        }
      }
      assert.equal(await processCount(p.process_id), 0);
    });

    test('clients without an Origin are not affected', async () => {
      const p = makeProcess();
      const r = await fetch(`${server.url}/ingestion/insert_process`, { method: 'POST', body: JSON.stringify(p), headers: { authorization: `Bearer ${KEY}` } });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('access-control-allow-origin'), null);
      assert.equal(await processCount(p.process_id), 1);
    });

    describe('from a page in Chromium', { skip: BROWSER_SKIP }, () => {
      let browser: Browser;
      before(async () => {
        browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
      });
      after(async () => {
        await browser?.close();
      });

      /** posts a process from a page of `origin`; the key and the JSON type make the browser send a preflight */
      const postFromPage = async (origin: string, processInfo: object) => {
        const page = await browser.newPage();
        try {
          await page.goto(origin + '/');
          return await page.evaluate(
            async ([url, key, body]) => {
              try {
                const r = await fetch(`${url}/ingestion/insert_process`, {
                  method: 'POST',
                  body,
                  headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
                });
                return { status: r.status, text: await r.text() };
              } catch (e) {
                return { status: 0, text: String(e) };
              }
            },
            [server.url, KEY, JSON.stringify(processInfo)] as const,
          );
        } finally {
          await page.close();
        }
      };

      test('a page of an allowed origin ingests; a page of another origin is stopped and writes nothing', async () => {
        const mine = makeProcess();
        const ok = await postFromPage(allowedPage.origin, mine);
        assert.equal(ok.status, 200, ok.text);
        assert.deepEqual(JSON.parse(ok.text), { inserted: true });
        assert.equal(await processCount(mine.process_id), 1);

        const theirs = makeProcess();
        const refused = await postFromPage(otherPage.origin, theirs);
        // the browser gives the page no answer at all (the preflight carried no CORS headers)
        assert.equal(refused.status, 0, refused.text);
        assert.match(refused.text, /TypeError/);
        assert.equal(await processCount(theirs.process_id), 0);
      });
    });
  });
}
