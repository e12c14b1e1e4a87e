/**
 * A small canvas game instrumented with the Sirius browser SDK: sprites drift, collide and wear out; every
 * animation frame is a Sirius frame (`trackAnimationFrames()`), with spans for update and render inside, a
 * few logs on game events and metrics every second. Now and then (about every 25 s) a frame stalls on
 * purpose for {@link HITCH_MS} ms, so the tail sampler has a slow frame to keep.
 *
 * Query parameters, for tests and benchmarks:
 *   ?hitches=N     exactly N stalls, 1.5 s after the start and then every 2.5 s (no random ones)
 *   ?seconds=S     stop after S seconds, flush, and set `window.game.stats.done`
 *   ?sampling=off  send every frame's spans (`init({ sampling: false })`)
 *   ?budget=MS     frames slower than this are slow (default 25 ms: 1.5 frames at 60 fps)
 *   ?run=label     the process property `run`, to find this run with SQL
 * and `window.game.hitch()` stalls the next frame, `window.game.stop()` stops and flushes.
 *
 * The page is told where the Sirius server is by `window.SIRIUS_GAME` (serve.ts writes it into the HTML).
 */
import { FIRST_HITCH_MS, HITCH_EVERY_MS, HITCH_MS } from './hitches.js';
import { draw } from './render.js';
import { loadSdk } from './sdk.js';
import { seededRandom, World } from './world.js';

interface GameConfig {
  telemetryUrl: string;
  apiKey?: string;
}

export interface GameStats {
  /** animation frames the game rendered while the SDK tracked frames */
  frames: number;
  /** the stalls: the frame number (as counted above) and page time of each */
  hitches: { frame: number; at: number }[];
  collisions: number;
  respawned: number;
  running: boolean;
  /** stopped and flushed; `flushed` says whether everything went out before the flush deadline */
  done: boolean;
  flushed?: boolean;
  error?: string;
}

const stats: GameStats = { frames: 0, hitches: [], collisions: 0, respawned: 0, running: false, done: false };
let hitchRequested = false;
let stopGame: () => Promise<GameStats> = async () => stats;

declare global {
  interface Window {
    SIRIUS_GAME?: GameConfig;
    game: { stats: GameStats; hitch(): void; stop(): Promise<GameStats> };
  }
}
window.game = { stats, hitch: () => void (hitchRequested = true), stop: () => stopGame() };

async function main(): Promise<void> {
  const config = window.SIRIUS_GAME ?? { telemetryUrl: 'http://127.0.0.1:9000' };
  const params = new URLSearchParams(location.search);
  const forced = params.has('hitches') ? Number(params.get('hitches')) : undefined;
  const seconds = params.has('seconds') ? Number(params.get('seconds')) : undefined;
  const sampling = params.get('sampling') !== 'off';
  const budget = params.has('budget') ? Number(params.get('budget')) : undefined;

  const sirius = await loadSdk(config.telemetryUrl);
  sirius.init({
    url: config.telemetryUrl,
    apiKey: config.apiKey || undefined,
    exe: 'browser-game',
    // `?run=<label>` tells runs apart in queries (tests, benchmarks)
    properties: { example: 'browser-game', sampling: sampling ? 'on' : 'off', run: params.get('run') ?? '' },
    // the default policy; `?budget=` only moves what counts as slow (a loaded test machine misses 60 fps)
    ...(sampling ? (budget === undefined ? {} : { sampling: { frameBudgetMs: budget } }) : { sampling: false }),
  });

  const canvas = document.querySelector('canvas')!;
  const ctx = canvas.getContext('2d')!;
  const random = seededRandom(20261203);
  const world = new World(canvas.width, canvas.height, 160, random);
  sirius.info(`game started: ${world.sprites.length} sprites`, { target: 'game', properties: { hitches: String(forced ?? 'random') } });

  // before the game's own loop, so that each turn's frame begins before the game's work
  const stopFrames = sirius.trackAnimationFrames();
  const started = performance.now();
  let last = started;
  let nextForced = 0;
  let secondStart = started;
  let secondFrames = 0;
  const hud = { fps: 0, frames: 0, hitches: 0 };
  const wornThisSecond: number[] = [];
  stats.running = true;

  const hitch = (): void => {
    sirius.span('hitch', () => {
      // a stall of the main thread, as a blocking asset decode or a long GC would cause
      const end = performance.now() + HITCH_MS;
      while (performance.now() < end) {
        // spin
      }
    }, { target: 'game' });
    stats.hitches.push({ frame: stats.frames, at: performance.now() - started });
    hud.hitches = stats.hitches.length;
    sirius.warn(`frame ${stats.frames} stalled for ${HITCH_MS} ms (deliberate hitch)`, { target: 'game', properties: { frame: String(stats.frames) } });
  };

  const frame = (now: number): void => {
    if (!stats.running) return;
    stats.frames++;
    hud.frames = stats.frames;
    const dt = Math.min(0.05, (now - last) / 1000);
    last = now;
    sirius.span('update', () => {
      sirius.span('physics', () => world.move(dt));
      const hits = sirius.span('collisions', () => world.collide());
      stats.collisions += hits;
      const worn = sirius.span('wear', () => world.wearOut());
      stats.respawned += worn.length;
      wornThisSecond.push(...worn);
    });
    const elapsed = performance.now() - started;
    const due = forced === undefined ? random() < 1 / 1500 : nextForced < forced && elapsed >= FIRST_HITCH_MS + nextForced * HITCH_EVERY_MS;
    if (due || hitchRequested) {
      if (due && forced !== undefined) nextForced++;
      hitchRequested = false;
      hitch();
    }
    sirius.span('render', () => draw(ctx, world, sirius, hud));
    secondFrames++;
    if (now - secondStart >= 1000) {
      hud.fps = (secondFrames * 1000) / (now - secondStart);
      sirius.fmetric('fps', 'hz', hud.fps, { target: 'game' });
      sirius.imetric('collisions', 'count', stats.collisions, { target: 'game' });
      // one line a second, not one per sprite: a log per event at 60 fps would outweigh the sampled traces
      if (wornThisSecond.length > 0) {
        sirius.info(`${wornThisSecond.length} sprites worn out and respawned: ${wornThisSecond.join(', ')}`, { target: 'game/sprites' });
        wornThisSecond.length = 0;
      }
      secondStart = now;
      secondFrames = 0;
    }
    if (seconds !== undefined && elapsed >= seconds * 1000) {
      void stopGame();
      return;
    }
    requestAnimationFrame(frame);
  };

  stopGame = async () => {
    if (!stats.running) return stats;
    stats.running = false;
    stopFrames();
    sirius.info(`game stopped after ${stats.frames} frames, ${stats.hitches.length} hitches`, { target: 'game' });
    stats.flushed = await sirius.flush({ timeoutMs: 15_000 });
    stats.done = true;
    return stats;
  };
  requestAnimationFrame(frame);
}

main().catch((err: unknown) => {
  stats.error = String(err);
  const p = document.createElement('p');
  p.textContent = stats.error;
  p.className = 'error';
  document.body.append(p);
  console.error(err);
});
