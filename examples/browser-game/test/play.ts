/**
 * Plays the browser game for tests and benchmarks: a Sirius server that allows the game's origin, the game's
 * own server, and a headless Debian Chromium page that runs it until `?seconds` are over and the SDK flushed.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { startServer, type RunningServer, type ServeOptions } from '@sirius/server';
import { freePort } from '../../../packages/server/test/support/free-port.js';
import { buildSdkIfStale } from '../../../packages/tracing/test/browser/support.js';
import type { GameStats } from '../src/game.js';
import { startGameServer, type GameServer } from '../serve.js';

export const CHROMIUM = '/usr/bin/chromium';
export const BROWSER_SKIP: string | false = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is not installed: skipping the browser game tests (apt-get install -y chromium; .ci/run does)`;
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export interface GameStack {
  server: RunningServer;
  game: GameServer;
  browser: Browser;
  close(): Promise<void>;
}

/** A Sirius server (`options` on top of: ingestion, analytics and web roles, port 0) and the game, origin allowed. */
export async function startGameStack(options: ServeOptions): Promise<GameStack> {
  // the server serves the SDK from its build (npm start and npm ci build it; a test run may come first)
  buildSdkIfStale();
  const gamePort = await freePort();
  const server = await startServer({
    httpPort: 0, roles: ['ingestion', 'analytics', 'web'], quiet: true,
    ingestionOrigins: [`http://127.0.0.1:${gamePort}`], ...options,
  });
  const game = await startGameServer({ port: gamePort, telemetryUrl: server.url });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  return {
    server,
    game,
    browser,
    async close() {
      await browser.close();
      await game.close();
      await server.close();
    },
  };
}

export interface GameRun {
  stats: GameStats;
  /** console errors and page errors */
  errors: string[];
}

/** Opens the game with `query` (which must include `seconds=`) and waits until it has stopped and flushed. */
export async function playGame(stack: GameStack, query: string, timeoutMs = 180_000): Promise<GameRun> {
  const page = await stack.browser.newPage({ viewport: { width: 900, height: 700 } });
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  try {
    await page.goto(`${stack.game.url}/?${query}`);
    await page.waitForFunction(() => window.game?.stats.done === true || window.game?.stats.error !== undefined, undefined, { timeout: timeoutMs, polling: 200 });
    const stats = await page.evaluate(() => window.game.stats);
    if (stats.error) throw new Error(`the game failed: ${stats.error}; console: ${errors.join(' | ')}`);
    return { stats, errors };
  } finally {
    await page.close();
  }
}

export type Row = Record<string, unknown>;

/** SQL over the server's HTTP query API (JSON rows), over the last day */
export async function query(server: RunningServer, sql: string): Promise<Row[]> {
  const r = await fetch(`${server.url}/api/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ sql, begin: '1d', end: 'now' }),
  });
  const body = (await r.json()) as { rows?: Row[]; error?: string };
  if (r.status !== 200) throw new Error(`query failed (${r.status}): ${body.error}\n${sql}`);
  return body.rows!;
}

export interface Span {
  /** 64-bit ids, as text: a JavaScript number would round them */
  id: string;
  parent: string;
  depth: number;
  name: string;
  begin: bigint;
  end: bigint;
}

/** every span of a cpu stream, in begin order */
export async function spansOf(server: RunningServer, streamId: string): Promise<Span[]> {
  const rows = await query(server, `SELECT id::VARCHAR AS id, parent::VARCHAR AS parent, depth, name, epoch_ns("begin")::VARCHAR AS b, epoch_ns("end")::VARCHAR AS e
    FROM view_instance('thread_spans', '${streamId}') ORDER BY "begin", depth`);
  return rows.map((r) => ({ id: String(r.id), parent: String(r.parent), depth: Number(r.depth), name: String(r.name), begin: BigInt(r.b as string), end: BigInt(r.e as string) }));
}

/** the cpu stream of `thread` (thread_name) in process `pid`, undefined when there is none */
export async function streamOf(server: RunningServer, pid: string, thread: string): Promise<string | undefined> {
  const [row] = await query(server, `SELECT stream_id FROM streams WHERE process_id = '${pid}' AND property_get(properties, 'thread_name') = '${thread}'`);
  return row === undefined ? undefined : String(row.stream_id);
}

export interface RecordedFrames {
  /** every frame's frame_time measure, in time order (index = frame number - 1) */
  times: { time: bigint; value: number }[];
  /** spans of the main thread's stream */
  spans: Span[];
  /** stored frame spans by frame index (-1: a frame span with no frame_time, which must not happen) */
  kept: Map<number, Span>;
}

/** what the lake holds of a game run's frames, once it holds `frames` frame_time measures (waits up to 60 s) */
export async function recordedFrames(server: RunningServer, pid: string, frames: number): Promise<RecordedFrames> {
  const deadline = Date.now() + 60_000;
  let times: RecordedFrames['times'] = [];
  for (;;) {
    const rows = await query(server, `SELECT epoch_ns(time)::VARCHAR AS t, value FROM measures WHERE process_id = '${pid}' AND name = 'frame_time' ORDER BY time`);
    times = rows.map((r) => ({ time: BigInt(r.t as string), value: Number(r.value) }));
    if (times.length >= frames || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const main = await streamOf(server, pid, 'main');
  const spans = main === undefined ? [] : await spansOf(server, main);
  // a frame span and its frame_time share one clock reading at the frame's end (to the µs, in two blocks)
  const indexOf = (f: Span): number => {
    let best = -1;
    let bestD = 2_000n;
    times.forEach((t, i) => {
      const d = t.time > f.end ? t.time - f.end : f.end - t.time;
      if (d < bestD) [best, bestD] = [i, d];
    });
    return best;
  };
  return { times, spans, kept: new Map(spans.filter((s) => s.name === 'frame').map((f) => [indexOf(f), f])) };
}

/** the children of `parent` */
export function childrenOf(spans: Span[], parent: Span): Span[] {
  return spans.filter((x) => x.parent === parent.id && x.depth === parent.depth + 1);
}

/** the spans under `ancestor`, depth first */
export function descendants(spans: Span[], ancestor: Span): Span[] {
  const out: Span[] = [];
  const walk = (p: Span): void => {
    // depth too: a top-level span's parent column may equal another span's id
    for (const s of childrenOf(spans, p)) {
      out.push(s);
      walk(s);
    }
  };
  walk(ancestor);
  return out;
}
