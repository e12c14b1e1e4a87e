/**
 * Starts a worker thread on a module that may be TypeScript source. On Node 20, `--import tsx` does not
 * reach worker threads, so a `.ts` entry is loaded through a tiny bootstrap that registers tsx in the
 * worker first. Compiled `.js` entries start directly.
 *
 * @example const w = startWorker(new URL('./job.ts', import.meta.url), { workerData: { n: 1 } });
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function startWorker(entry: URL, options: WorkerOptions = {}): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const code =
    `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })` +
    `.catch((e) => { process.nextTick(() => { throw e; }); });`;
  return new Worker(code, { ...options, eval: true });
}
