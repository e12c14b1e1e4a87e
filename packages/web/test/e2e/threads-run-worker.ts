/** The worker thread of threads-run.ts: `jobs` jobs of two steps each, traced by the same library. */
import { workerData } from 'node:worker_threads';
import { span } from '@sirius/tracing';

function busy(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end) {
    /* spin */
  }
}

for (let i = 0; i < (workerData as { jobs: number }).jobs; i++) {
  span('job', () => {
    span('step', () => busy(150));
    span('step', () => busy(150));
  });
  await new Promise((r) => setTimeout(r, 1));
}
