/**
 * An instrumented program with two threads: the main thread runs `FRAMES` frames (frame > update), a worker
 * runs `JOBS` jobs (job > step > step) at the same time. Its counts are exported for the all-threads timeline test.
 */
import { once } from 'node:events';
import { init, shutdown, span, startWorker } from '@sirius/tracing';

export const THREADS = { exe: 'e2e-threads', frames: 40, jobs: 25 } as const;

function busy(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end) {
    /* spin: spans need a duration */
  }
}

async function main(): Promise<void> {
  init({ exe: THREADS.exe, properties: { scenario: 'threads' }, runtimeHealth: false });
  const worker = startWorker(new URL('./threads-run-worker.ts', import.meta.url), { workerData: { jobs: THREADS.jobs } });
  for (let i = 0; i < THREADS.frames; i++) {
    span('frame', () => span('update', () => busy(200)));
    await new Promise((r) => setTimeout(r, 1));
  }
  await once(worker, 'exit');
  if (!(await shutdown({ timeoutMs: 20_000 }))) {
    console.error('threads run: shutdown timed out before the server stored everything');
    process.exit(1);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
