/**
 * The web timeline over an hour of trace at 60 fps (216 000 frames, 1.3 M spans on one thread) in headless
 * Chromium: first paint of a 1-minute window (spans one by one) and of the whole hour (per-pixel aggregates
 * computed by the server), the time to load a new window after a zoom, and draw times while panning the
 * hour. The peer, measured in the same run on the same server: what the timeline did before it read by
 * window, one query for every span of the range (capped at its 1 M-span limit), timed for the query alone.
 *
 * The data comes from the web package's fixture server (the real query engine and routes over Parquet
 * generated up front), so the figures measure the app and the query path, not ingestion.
 *
 * ```sh
 * node --conditions=sirius-source --import tsx bench/src/web-timeline.ts
 * ```
 */
import { chromium, type Page } from 'playwright-core';
import { connect } from '@sirius/client';
import { ensureBuilt, CHROMIUM_ARGS } from '../../packages/web/test/e2e/support.js';
import { startFixtureServer } from '../../packages/web/test/support/fixture-server.js';
import { spansSql } from '../../packages/web/src/lib/span-query.js';
import type {} from '../../packages/web/src/app/debug.js'; // window.__sirius

const FPS = 60;
const HOUR_MS = 3_600_000;
const FRAMES = (HOUR_MS / 1000) * FPS;
const SPANS_PER_FRAME = 6; // the fixture's frame > update > physics.step, render > render.scene, render.ui

export async function run(): Promise<Record<string, number | string>> {
  ensureBuilt();
  const genStart = performance.now();
  // the fixture's data ends when it starts generating
  const endMs = Date.now();
  const server = await startFixtureServer({ logs: 10_000, spans: FRAMES * SPANS_PER_FRAME, spanMs: HOUR_MS, frameNs: 1e9 / FPS });
  const out: Record<string, number | string> = {
    'data: frames / spans on one thread': `${FRAMES.toLocaleString('en-US')} / ${(FRAMES * SPANS_PER_FRAME).toLocaleString('en-US')} (1 h at ${FPS} fps)`,
    'data generation (s)': +((performance.now() - genStart) / 1000).toFixed(1),
  };
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const pid = server.mainProcessId;
    const range = `from=${new Date(endMs - HOUR_MS - 60_000).toISOString()}&to=${new Date(endMs + 60_000).toISOString()}`;
    const base = `${server.url}/process/${pid}?tab=timeline&thread=${server.mainThreadStreamId}&${range}`;
    const lastMinute = `${BigInt(endMs - 60_000) * 1_000_000n}-${BigInt(endMs) * 1_000_000n}`;
    // one warm-up pass (engine caches, browser code cache), then the measured pass
    for (const pass of [0, 1]) {
      const minute = await firstPaint(page, `${base}&zoom=${lastMinute}`);
      const hour = await firstPaint(page, base);
      if (pass === 0) continue;
      out['first paint: 1-minute window (ms)'] = Math.round(minute.ms);
      out['  1-minute window: drawn as / rows / its window query ms'] = `${minute.mode} / ${minute.count.toLocaleString('en-US')} / ${Math.round(minute.loadMs)}`;
      out['first paint: whole hour (ms)'] = Math.round(hour.ms);
      out['  whole hour: drawn as / rows (spans in it) / its window query ms'] = `${hour.mode} / ${hour.count.toLocaleString('en-US')} (${hour.total.toLocaleString('en-US')}) / ${Math.round(hour.loadMs)}`;
    }
    const zoom = await zoomLoads(page);
    out['zoom hour → 10 s → 1 min elsewhere → hour: window load ms'] = zoom.map((z) => `${Math.round(z.ms)} (${z.mode}, ${z.count.toLocaleString('en-US')} rows)`).join(' · ');
    const pan = await panDraws(page);
    out['pan the hour (aggregates): fps'] = Math.round(pan.fps);
    out['pan the hour (aggregates): draw ms p50 / p95'] = `${pan.p50.toFixed(2)} / ${pan.p95.toFixed(2)}`;

    // the peer: the single query the timeline made before it read by window
    const client = connect(server.url);
    const t0 = performance.now();
    const all = await client.query(spansSql(server.mainThreadStreamId), new Date(endMs - HOUR_MS - 60_000), new Date(endMs + 60_000));
    const allMs = performance.now() - t0;
    out['peer: every span of the hour in one query, query only (ms)'] = Math.round(allMs);
    out['peer: rows it returned (capped at 1 M)'] = all.numRows;
    out['ratio: peer query only / windowed first paint of the hour'] = +(allMs / Number(out['first paint: whole hour (ms)'])).toFixed(1);
  } finally {
    await browser.close();
    await server.close();
  }
  return out;
}

/** ms from navigation start until the timeline drew its first window */
async function firstPaint(page: Page, url: string): Promise<{ ms: number; mode: string; count: number; total: number; loadMs: number }> {
  await page.goto('about:blank');
  await page.goto(url);
  await page.waitForFunction(() => (window.__sirius?.timeline?.loads ?? 0) >= 1, undefined, { timeout: 120_000 });
  return page.evaluate(() => {
    const t = window.__sirius.timeline!;
    return { ms: performance.now(), mode: t.mode ?? '', count: t.count, total: t.total ?? 0, loadMs: t.loadMs ?? 0 };
  });
}

/** Zooms the loaded hour to 10 s, then to a minute elsewhere, then back out; for each, how long its window took to load. */
async function zoomLoads(page: Page): Promise<{ ms: number; mode: string; count: number }[]> {
  const out: { ms: number; mode: string; count: number }[] = [];
  const full = await page.evaluate(() => window.__sirius.timelineView!.view());
  const at = (f: number) => full.begin + f * (full.end - full.begin);
  for (const [mid, w] of [[at(0.5), 10e9], [at(0.75), 60e9], [at(0.5), full.end - full.begin]] as const) {
    const before = await page.evaluate(() => window.__sirius.timeline!.loads ?? 0);
    const t0 = await page.evaluate(`(() => { const t = performance.now(); window.__sirius.timelineView.setView(${mid - w / 2}, ${mid + w / 2}); return t; })()`) as number;
    await page.waitForFunction((n) => (window.__sirius.timeline?.loads ?? 0) > n, before, { timeout: 120_000 });
    out.push(await page.evaluate((start) => {
      const t = window.__sirius.timeline!;
      return { ms: performance.now() - start, mode: t.mode ?? '', count: t.count };
    }, t0));
  }
  return out;
}

/** Pans the whole-hour view by a third over 240 animation frames; reports fps and draw times. */
async function panDraws(page: Page): Promise<{ fps: number; p50: number; p95: number }> {
  // a string, not a function: tsx's name-keeping helpers do not exist inside the page
  return page.evaluate(`(async () => {
    const tl = window.__sirius.timelineView;
    const v0 = tl.view();
    const w = v0.end - v0.begin;
    const frames = 240;
    const draws = [];
    let b = v0.begin;
    const t0 = performance.now();
    await new Promise((resolve) => {
      let i = 0;
      function step() {
        b += w / 3 / frames;
        tl.setView(b, b + w);
        draws.push(tl.draw());
        if (++i < frames) requestAnimationFrame(step);
        else resolve();
      }
      requestAnimationFrame(step);
    });
    const elapsed = performance.now() - t0;
    draws.sort((a, c) => a - c);
    return { fps: (frames / elapsed) * 1000, p50: draws[Math.floor(frames / 2)], p95: draws[Math.floor(frames * 0.95)] };
  })()`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run();
  for (const [k, v] of Object.entries(r)) console.log(`${k.padEnd(58)} ${v}`);
}
