/**
 * Sends a small, known game-loop-like recording to SIRIUS_TELEMETRY_URL, then exits 0 once all is delivered:
 * 600 `frame` spans (with an `update` child), the measure `frame_time` (ms) = 10 + frame % 10 (mean 14.5),
 * an info log every 20 frames (30), a warning every 100 (6), an error every 50 (12), one async span.
 * Frames are 2 ms apart, so the recording spans about a second or two.
 */
import { error, fmetric, info, init, shutdown, span, spanAsync, warn } from '@sirius/tracing';

export const DEMO_FACTS = { frames: 600, meanFrameMs: 14.5, maxFrameMs: 19, infos: 31, warnings: 6, errors: 12 } as const;

if (import.meta.url === `file://${process.argv[1]}`) {
  init({ exe: 'game-loop', properties: { demo: 'fixture' } });
  info('game loop starting', { target: 'game' });
  for (let f = 0; f < DEMO_FACTS.frames; f++) {
    span('frame', () => span('update', () => undefined));
    fmetric('frame_time', 'ms', 10 + (f % 10), { target: 'game/loop' });
    if (f % 20 === 0) info(`frame ${f}`, { target: 'game/loop' });
    if (f % 100 === 0) warn(`slow frame ${f}`, { target: 'game/loop' });
    if (f % 50 === 49) error('lost connection to matchmaking (simulated)', { target: 'game/net' });
    await new Promise((r) => setTimeout(r, 2));
  }
  await spanAsync('save-game', () => new Promise((r) => setTimeout(r, 5)));
  const ok = await shutdown({ timeoutMs: 30_000 });
  process.exit(ok ? 0 : 1);
}
