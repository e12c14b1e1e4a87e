/**
 * `npm run demo`: a 60 fps game loop instrumented with @sirius/tracing, sending to SIRIUS_TELEMETRY_URL
 * (default http://127.0.0.1:9000, i.e. `npm start`). Each turn is a `frame()` (the `frame` span and its
 * `frame_time` measure) with update → physics/ai and render → culling/draw spans, plus the entity count
 * (imetric); every 10 s a deliberate hitch; a few logs per second at varied levels and targets; a worker
 * thread doing spanned path-finding work. Tail sampling (on by default) uploads the trace of slow frames and
 * their neighbours, of errors, and 1 % of the rest; `--no-sampling` sends every frame.
 *
 *   npm run demo -- --seconds 10 [--no-sampling]
 */
import { debug, error, frame as gameFrame, imetric, info, init, shutdown, span, spanAsync, startWorker, trace, warn } from '@sirius/tracing';
import { World } from './world.js';

const arg = process.argv.indexOf('--seconds');
const seconds = arg >= 0 ? Number(process.argv[arg + 1]) : 60;
if (!(seconds > 0)) {
  console.error('usage: game-loop [--seconds N]   (N > 0)');
  process.exit(2);
}
const url = process.env.SIRIUS_TELEMETRY_URL ?? 'http://127.0.0.1:9000';

const sampling = !process.argv.includes('--no-sampling');
init({ exe: 'game-loop', properties: { demo: 'game-loop', fps: '60' }, ...(sampling ? {} : { sampling: false }) });
info(`game loop starting for ${seconds} s, sending to ${url}`, { target: 'game' });

const world = new World(1234);
const pathfinder = startWorker(new URL('./pathfinder-worker.ts', import.meta.url));
pathfinder.unref();

const FRAME_MS = 1000 / 60;
const start = performance.now();
let frame = 0;
let lastReport = start;
let framesSinceReport = 0;

function tick(): void {
  const t0 = performance.now();
  gameFrame(() => {
    span('update', () => {
      span('input', () => world.input(frame));
      span('physics', () => world.physics(FRAME_MS / 1000));
      span('ai', () => world.ai(frame));
    });
    span('render', () => {
      const visible = span('culling', () => world.cull());
      span('draw', () => world.draw(visible));
      if (frame % 600 === 300) span('hitch', () => busy(40)); // a deliberate slow frame every 10 s
    });
  });
  const dt = performance.now() - t0;
  imetric('entities', 'count', world.size, { target: 'game/world' });
  if (frame % 60 === 0) {
    pathfinder.postMessage({ frame, entities: world.size });
  }
  logSome(frame, dt);
  frame++;
  framesSinceReport++;
  const now = performance.now();
  if (now - lastReport >= 5000) {
    const fps = (framesSinceReport * 1000) / (now - lastReport);
    console.log(`[demo] ${((now - start) / 1000).toFixed(0)} s: frame ${frame}, ${fps.toFixed(1)} fps, ${world.size} entities`);
    lastReport = now;
    framesSinceReport = 0;
  }
  if (now - start < seconds * 1000) {
    setTimeout(tick, Math.max(0, start + frame * FRAME_MS - performance.now()));
  } else {
    void finish();
  }
}

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* a stall the frame chart and tail sampling should catch */ }
}

/** a few logs per second, at every level, from several targets */
function logSome(f: number, dt: number): void {
  if (f % 20 === 0) info(`frame ${f}: ${world.size} entities`, { target: 'game/loop' });
  if (f % 45 === 0) debug(`spawned wave ${f / 45}`, { target: 'game/spawner', properties: { wave: String(f / 45) } });
  if (f % 30 === 7) trace('input polled', { target: 'game/input' });
  if (dt > FRAME_MS) warn(`slow frame ${f}: ${dt.toFixed(2)} ms`, { target: 'game/loop' });
  if (f % 600 === 599) error('lost connection to matchmaking (simulated)', { target: 'game/net' });
}

async function finish(): Promise<void> {
  await spanAsync('save-game', async () => {
    await new Promise((r) => setTimeout(r, 5));
  });
  info(`game loop done after ${frame} frames`, { target: 'game' });
  const ok = await shutdown({ timeoutMs: 10_000 });
  await pathfinder.terminate();
  console.log(ok ? `[demo] sent ${frame} frames to ${url}` : `[demo] could not deliver everything to ${url} (is the server running?)`);
}

tick();
