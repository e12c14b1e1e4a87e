/** The demo's worker thread: spanned path-finding work on request; it gets its own cpu stream. */
import { parentPort } from 'node:worker_threads';
import { fmetric, info, span } from '@sirius/tracing';

function search(n: number): number {
  let best = Infinity;
  for (let i = 0; i < n; i++) best = Math.min(best, Math.abs(Math.sin(i) * 1000 - 500));
  return best;
}

parentPort!.on('message', (m: { frame: number; entities: number }) => {
  const t0 = performance.now();
  const best = span('pathfind', () => {
    const coarse = span('coarse-grid', () => search(m.entities * 20));
    const fine = span('refine', () => search(m.entities * 50));
    return Math.min(coarse, fine);
  }, { target: 'game/pathfinder' });
  fmetric('pathfind_time', 'ms', performance.now() - t0, { target: 'game/pathfinder' });
  if (m.frame % 600 === 0) info(`paths recomputed for ${m.entities} entities (best ${best.toFixed(1)})`, { target: 'game/pathfinder' });
});
