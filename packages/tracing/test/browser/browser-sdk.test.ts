/**
 * The browser SDK end to end in Debian Chromium: a page on its own loopback origin imports
 * `<server>/sdk/tracing.js` (no bundler), records logs, metrics and spans, and the server stores them under a
 * process carrying the browser's properties; leaving the page mid-run still delivers what the page held
 * (keepalive requests); with the server unreachable the memory bound holds and the drops are counted and
 * reported once it is back; a page whose CSP forbids workers sends from its main thread. Pages here are not
 * cross-origin isolated (no SharedArrayBuffer), as most pages are not.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startServer, type RunningServer } from '@sirius/server';
import { pgBackends } from '../../../server/test/support/pg.js';
import { readStreams, type StoredStream } from '../support/read-lake.js';
import { waitFor } from '../support/wait-for.js';
import { BROWSER_SKIP, buildSdkIfStale, launchChromium, pageServer, switchProxy, type Loopback, type SwitchProxy } from './support.js';

type Sdk = typeof import('../../src/browser.js');
declare global {
  // what the pages keep between evaluate calls
  var sdk: Sdk;
  var stopFrames: () => void;
}

interface ProcessRow {
  process_id: string;
  exe: string;
  computer: string;
  properties: Record<string, string>;
}

for (const backend of pgBackends) {
  const skip = BROWSER_SKIP || backend.skip;
  describe(`browser SDK in Chromium (${backend.name})`, { skip }, () => {
    let dir: string;
    let db: Awaited<ReturnType<(typeof backend)['create']>>;
    let server: RunningServer;
    let pages: Loopback;
    let proxy: SwitchProxy;
    let browser: Browser;

    before(async () => {
      buildSdkIfStale();
      dir = await mkdtemp(join(tmpdir(), 'sirius-browser-sdk-'));
      db = await backend.create();
      pages = await pageServer();
      server = await startServer({
        roles: ['ingestion', 'analytics'], httpPort: 0, dataDir: dir, sqlConnectionString: db.connectionString ?? 'memory://', objectStoreUri: 'memory://',
        quiet: true, ingestionOrigins: [pages.origin],
      });
      proxy = await switchProxy(server.url);
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
      await proxy?.close();
      await server?.close();
      await pages?.close();
      await db?.drop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    /** A fresh page of the page server with the SDK imported from the server as `globalThis.sdk`. */
    async function openPage(path: string): Promise<Page> {
      const page = await browser.newPage();
      page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
      await page.goto(pages.origin + path);
      await page.evaluate(async (url) => {
        globalThis.sdk = (await import(url)) as Sdk;
      }, `${server.url}/sdk/tracing.js`);
      return page;
    }

    /** SQL through the query API (analytics role) */
    async function sql(query: string): Promise<Record<string, unknown>[]> {
      const r = await fetch(`${server.url}/api/query`, {
        method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ sql: query, begin: '1d', end: 'now' }),
      });
      const body = (await r.json()) as { rows?: Record<string, unknown>[]; error?: string };
      assert.equal(r.status, 200, body.error);
      return body.rows!;
    }

    async function processOf(session: string): Promise<ProcessRow | undefined> {
      const rows = await server.lake.sql.query<ProcessRow>(
        `SELECT process_id, exe, computer, properties FROM processes WHERE properties->>'test_run' = $1`, [session],
      );
      return rows[0];
    }

    async function streamsOf(processId: string): Promise<StoredStream[]> {
      return (await readStreams(server.lake)).filter((s) => s.process_id === processId);
    }

    const isMetric = (e: StoredStream['events'][number]): e is Extract<StoredStream['events'][number], { kind: 'int_metric' | 'float_metric' }> =>
      e.kind === 'int_metric' || e.kind === 'float_metric';
    const logs = (streams: StoredStream[]): string[] =>
      streams.filter((s) => s.tags.includes('log')).flatMap((s) => s.events.flatMap((e) => (e.kind === 'log' ? [e.msg] : [])));

    test('a page records logs, metrics and spans; the server stores them under a process with the browser\'s properties', async () => {
      const page = await openPage('/game/level-1?token=secret');
      const status = await page.evaluate(async () => {
        const s = globalThis.sdk;
        s.init({ sampling: false, properties: { test_run: 'basic' } });
        for (let i = 0; i < 500; i++) s.info(`tick ${i}`, { target: 'game/loop', properties: i === 7 ? { level: '1' } : undefined });
        s.error('boss fight failed', { target: 'game/boss' });
        for (let i = 0; i < 100; i++) s.fmetric('speed', 'm/s', i / 2, { target: 'game/physics' });
        s.imetric('enemies', 'count', 42);
        s.span('update', () => s.span('physics', () => s.span('collide', () => 0)));
        const outer = s.beginAsyncSpan('load-level');
        outer.end();
        const ok = await s.flush({ timeoutMs: 30_000 });
        return { ok, state: s.senderStatus(), isolated: crossOriginIsolated, sab: typeof SharedArrayBuffer };
      });
      assert.equal(status.ok, true, JSON.stringify(status));
      assert.equal(status.state?.mode, 'worker', JSON.stringify(status.state));
      assert.equal(status.isolated, false, 'the page is not cross-origin isolated (no SharedArrayBuffer), like most pages');
      await page.close();

      const proc = await waitFor('the browser process', () => processOf('basic'));
      const p = proc.properties;
      assert.equal(p.runtime, 'browser');
      assert.match(p.browser!, /Chrom/);
      assert.match(p.browser_version!, /^\d+/);
      assert.equal(p.os, 'Linux');
      assert.ok(Number(p.cores) >= 1, p.cores);
      assert.match(p.screen!, /^\d+x\d+$/);
      assert.ok(Number(p.dpr) > 0, p.dpr);
      assert.equal(p.page_origin, pages.origin);
      assert.equal(p.page_path, '/game/level-1', 'no query string by default');
      assert.match(p.session_id!, /^[0-9a-f-]{36}$/);
      assert.equal(proc.exe, `${pages.origin}/game/level-1`);

      const streams = await streamsOf(proc.process_id);
      const msgs = logs(streams);
      assert.equal(msgs.filter((m) => m.startsWith('tick ')).length, 500);
      assert.ok(msgs.includes('boss fight failed'));
      const logEvents = streams.find((s) => s.tags.includes('log'))!.events;
      const seventh = logEvents.find((e) => e.kind === 'log' && e.msg === 'tick 7');
      assert.deepEqual(seventh?.kind === 'log' ? [seventh.target, seventh.level, seventh.properties] : [], ['game/loop', 4, { level: '1' }]);
      const measures = streams.filter((s) => s.tags.includes('metrics')).flatMap((s) => s.events);
      const speeds = measures.flatMap((e) => (isMetric(e) && e.name === 'speed' ? [Number(e.value)] : []));
      assert.deepEqual(speeds, Array.from({ length: 100 }, (_, i) => i / 2));
      assert.ok(measures.some((e) => isMetric(e) && e.name === 'enemies' && Number(e.value) === 42));
      const main = streams.find((s) => s.tags.includes('cpu') && s.properties.thread_name === 'main');
      assert.ok(main, 'a cpu stream for the page\'s main thread');
      const spanNames = main.events.flatMap((e) => (e.kind === 'begin_thread_span' ? [e.name] : []));
      assert.deepEqual(spanNames, ['update', 'physics', 'collide']);
      assert.ok(main.events.some((e) => e.kind === 'begin_async_span' && e.name === 'load-level'));

      // and in SQL, by the browser's process properties
      const byBrowser = await sql(`SELECT count(*) AS n, min(exe) AS exe FROM log_entries
        WHERE property_get(process_properties, 'runtime') = 'browser' AND property_get(process_properties, 'test_run') = 'basic'
          AND property_get(process_properties, 'page_path') = '/game/level-1' AND target = 'game/loop'`);
      assert.equal(Number(byBrowser[0]!.n), 500);
      assert.equal(byBrowser[0]!.exe, `${pages.origin}/game/level-1`);
      const speedRows = await sql(`SELECT count(*) AS n, max(value) AS top FROM measures
        WHERE name = 'speed' AND property_get(process_properties, 'os') = 'Linux' AND property_get(process_properties, 'test_run') = 'basic'`);
      assert.deepEqual([Number(speedRows[0]!.n), Number(speedRows[0]!.top)], [100, 49.5]);
    });

    test('leaving the page mid-run still delivers what it held (keepalive requests)', async () => {
      const page = await openPage('/leaving');
      const ready = await page.evaluate(async () => {
        const s = globalThis.sdk;
        s.init({ sampling: false, properties: { test_run: 'leaving' } });
        s.info('before leaving');
        return s.flush({ timeoutMs: 30_000 }); // the process and streams are stored
      });
      assert.equal(ready, true);
      // recorded and left in one turn of the page's loop: no hand-off to the worker in between
      await Promise.all([
        page.waitForURL(`${pages.origin}/elsewhere`),
        page.evaluate((next) => {
          const s = globalThis.sdk;
          for (let i = 0; i < 300; i++) s.info(`leaving ${i}`, { target: 'game/exit' });
          for (let i = 0; i < 50; i++) s.fmetric('last_speed', 'm/s', i);
          location.href = next;
        }, `${pages.origin}/elsewhere`),
      ]);
      const proc = await waitFor('the leaving page\'s process', () => processOf('leaving'));
      const stored = await waitFor('every log recorded before leaving', async () => {
        const streams = await streamsOf(proc.process_id);
        const metrics = streams.flatMap((s) => s.events).filter((e) => isMetric(e) && e.name === 'last_speed').length;
        return logs(streams).filter((m) => m.startsWith('leaving ')).length === 300 && metrics === 50 ? streams : undefined;
      }, 60_000, 200);
      const leaving = logs(stored).filter((m) => m.startsWith('leaving '));
      assert.deepEqual(leaving, Array.from({ length: 300 }, (_, i) => `leaving ${i}`), 'each once, in order');
      const speeds = stored.flatMap((s) => s.events).flatMap((e) => (isMetric(e) && e.name === 'last_speed' ? [Number(e.value)] : []));
      assert.equal(speeds.length, 50);
      await page.close();
    });

    test('server unreachable: memory stays within its bound, drops are counted, and reported once the server is back', async () => {
      proxy.up = false;
      const page = await openPage('/offline');
      const MAX = 256 * 1024;
      const N = 200_000;
      const during = await page.evaluate(({ url, max, n }) => {
        const s = globalThis.sdk;
        s.init({ url, sampling: false, runtimeHealth: false, maxBufferBytes: max, properties: { test_run: 'offline' } });
        for (let i = 0; i < n; i++) s.info(`offline event ${i}`);
        return s.senderStatus();
      }, { url: proxy.origin, max: MAX, n: N });
      assert.ok(during !== undefined && during.droppedEvents > 0, `drops counted: ${JSON.stringify(during)}`);
      assert.ok(during.boundBytes <= MAX, `held ${during.boundBytes} bytes, bound ${MAX}`);
      await waitFor('the SDK retrying against the unreachable server', () => proxy.refused > 0);
      proxy.up = true;
      const flushed = await page.evaluate(() => globalThis.sdk.flush({ timeoutMs: 60_000 }));
      assert.equal(flushed, true);
      await page.close();
      const proc = await waitFor('the offline page\'s process', () => processOf('offline'));
      const { stored, dropped } = await waitFor('stored + reported drops = recorded', async () => {
        const streams = await streamsOf(proc.process_id);
        const storedCount = logs(streams).filter((m) => m.startsWith('offline event ')).length;
        const droppedCount = streams.flatMap((s) => s.events)
          .reduce((sum, e) => sum + (isMetric(e) && e.name === 'sirius.dropped_events' ? Number(e.value) : 0), 0);
        return storedCount + droppedCount === N ? { stored: storedCount, dropped: droppedCount } : undefined;
      }, 60_000, 250);
      assert.ok(dropped > 0 && stored > 0, `stored ${stored}, dropped ${dropped}`);
    });

    test('trackAnimationFrames makes each animation frame a frame; a hitch is a Long Animation Frame span with its script', async () => {
      proxy.up = true;
      const page = await openPage('/frames');
      await page.evaluate(() => {
        globalThis.sdk.init({ sampling: false, properties: { test_run: 'frames' } });
        globalThis.stopFrames = globalThis.sdk.trackAnimationFrames();
      });
      // a named function run by a timer: the browser attributes the long frame to it
      await page.addScriptTag({ content: 'function deliberateHitch() { const t = performance.now(); while (performance.now() - t < 150) {} }\nsetTimeout(deliberateHitch, 50);' });
      // a string: tsx would wrap the inner functions of a callback in a helper the page does not have
      const frames = await page.evaluate(`(async () => {
        let n = 0;
        await new Promise((resolve) => {
          const count = () => (++n >= 40 ? resolve() : requestAnimationFrame(count));
          requestAnimationFrame(count);
        });
        globalThis.stopFrames(); // no frame recorded after the flush (closing the page would send it by keepalive)
        return globalThis.sdk.flush({ timeoutMs: 30000 });
      })()`);
      assert.equal(frames, true);
      const proc = await waitFor('the frames page\'s process', () => processOf('frames'));
      // Long Animation Frame entries are reported after their frame: the page stays open, its 1 s hand-off sends them
      const streams = await waitFor('a long animation frame span', async () => {
        const all = await streamsOf(proc.process_id);
        const loaf = all.find((s) => s.properties.thread_name === 'long-animation-frames');
        return loaf !== undefined && loaf.events.some((e) => e.kind === 'begin_thread_span' && e.name === 'long-animation-frame') ? all : undefined;
      }, 60_000, 200);
      await page.close();
      const main = streams.find((s) => s.tags.includes('cpu') && s.properties.thread_name === 'main')!;
      const frameSpans = main.events.filter((e) => e.kind === 'begin_thread_span' && e.name === 'frame').length;
      assert.ok(frameSpans >= 39, `${frameSpans} frames`);
      const frameTimes = streams.flatMap((s) => s.events).flatMap((e) => (isMetric(e) && e.name === 'frame_time' ? [e] : []));
      const frameEnds = main.events.filter((e) => e.kind === 'end_thread_span' && e.name === 'frame').length;
      assert.equal(frameTimes.length, frameEnds, 'one frame_time per ended frame');
      assert.ok(frameTimes.some((e) => Number(e.value) >= 100), 'the hitch is a long frame');
      const loaf = streams.find((s) => s.properties.thread_name === 'long-animation-frames')!;
      const begins = loaf.events.flatMap((e) => (e.kind === 'begin_thread_span' ? [e] : []));
      const hitch = begins.find((e) => e.name === 'deliberateHitch');
      assert.ok(hitch, `the hitch's script by its function name: ${JSON.stringify(begins.map((e) => [e.name, e.target]))}`);
      // an inline script has no URL of its own: the target is then how it was invoked
      assert.match(hitch.target, /\/frames$|^user-callback$/, 'its target is the script\'s URL, else its invoker type');

      // the queries docs/frames.md shows
      const perFrame = await sql(`SELECT count(*) AS n, max(value) AS worst FROM measures
        WHERE name = 'frame_time' AND property_get(process_properties, 'test_run') = 'frames'`);
      assert.equal(Number(perFrame[0]!.n), frameEnds);
      assert.ok(Number(perFrame[0]!.worst) >= 100);
      const blamed = await sql(`SELECT s.name AS script, count(*) AS times, sum(s.duration) / 1e6 AS total_ms
        FROM view_instance('thread_spans', '${loaf.stream_id}') AS s WHERE s.depth = 1 GROUP BY script ORDER BY total_ms DESC`);
      const top = blamed.find((r) => r.script === 'deliberateHitch');
      assert.ok(top !== undefined && Number(top.total_ms) >= 100, JSON.stringify(blamed));
    });

    test('Web Vitals (LCP, CLS, INP) and the JS heap are recorded as measures without any call from the page', async () => {
      proxy.up = true;
      const page = await openPage('/vitals');
      await page.evaluate(`(async () => {
        globalThis.sdk.init({ sampling: false, properties: { test_run: 'vitals' } });
        const button = document.createElement('button');
        button.id = 'slow';
        button.textContent = 'slow button';
        button.style.cssText = 'display:block;width:300px;height:80px';
        button.addEventListener('click', () => { const t = performance.now(); while (performance.now() - t < 120) {} });
        document.body.append(button);
        await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
        // an unexpected layout shift: everything moves down by 300 px
        const banner = document.createElement('div');
        banner.style.cssText = 'height:300px';
        document.body.prepend(banner);
        await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      })()`);
      await page.click('#slow'); // the first input makes LCP final; the handler's 120 ms make a slow interaction
      // entries are reported after the next paint: the page stays open, its 1 s hand-off sends the measures
      const rows = await waitFor('the vitals and the heap', async () => {
        const r = await sql(`SELECT name, target, unit, max(value) AS top, count(*) AS n FROM measures
          WHERE property_get(process_properties, 'test_run') = 'vitals' GROUP BY name, target, unit ORDER BY name`);
        return ['lcp', 'cls', 'inp', 'js_heap_used'].every((n) => r.some((x) => x.name === n)) ? r : undefined;
      }, 60_000, 250);
      await page.close();
      const byName = new Map(rows.map((r) => [r.name as string, r]));
      const lcp = byName.get('lcp');
      assert.ok(lcp !== undefined && lcp.target === 'web_vitals' && lcp.unit === 'ms' && Number(lcp.n) === 1 && Number(lcp.top) > 0, JSON.stringify(rows));
      const cls = byName.get('cls');
      assert.ok(cls !== undefined && cls.unit === 'score' && Number(cls.top) > 0, JSON.stringify(rows));
      const inp = byName.get('inp');
      assert.ok(inp !== undefined && Number(inp.top) >= 100, JSON.stringify(rows));
      const heap = byName.get('js_heap_used');
      assert.ok(heap !== undefined && heap.target === 'browser' && heap.unit === 'bytes' && Number(heap.top) > 0, JSON.stringify(rows));
    });

    test('the bundlers\' build (the package\'s `browser` export, served from the app\'s own origin) starts its worker from its embedded copy', async () => {
      proxy.up = true;
      const page = await browser.newPage();
      await page.goto(`${pages.origin}/app/`);
      const state = await page.evaluate(async ({ url, sdkPath }) => {
        const s = (await import(sdkPath)) as Sdk;
        s.init({ url, sampling: false, properties: { test_run: 'bundler' } });
        for (let i = 0; i < 100; i++) s.info(`bundled ${i}`);
        const ok = await s.flush({ timeoutMs: 30_000 });
        return { ok, state: s.senderStatus() };
      }, { url: server.url, sdkPath: '/app/tracing.bundler.js' });
      assert.deepEqual([state.ok, state.state?.mode], [true, 'worker'], JSON.stringify(state));
      await page.close();
      const proc = await waitFor('the bundled page\'s process', () => processOf('bundler'));
      assert.equal(logs(await streamsOf(proc.process_id)).filter((m) => m.startsWith('bundled ')).length, 100);
    });

    test('a page whose CSP forbids workers sends from its main thread', async () => {
      proxy.up = true;
      const page = await openPage('/csp/game');
      const state = await page.evaluate(async () => {
        const s = globalThis.sdk;
        s.init({ sampling: false, properties: { test_run: 'csp' } });
        for (let i = 0; i < 100; i++) s.warn(`csp ${i}`);
        const ok = await s.flush({ timeoutMs: 30_000 });
        return { ok, state: s.senderStatus() };
      });
      assert.equal(state.ok, true);
      assert.equal(state.state?.mode, 'page');
      assert.match(state.state?.fallbackReason ?? '', /worker/);
      await page.close();
      const proc = await waitFor('the CSP page\'s process', () => processOf('csp'));
      const msgs = logs(await streamsOf(proc.process_id));
      assert.equal(msgs.filter((m) => m.startsWith('csp ')).length, 100);
    });
  });
}
