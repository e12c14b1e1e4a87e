/** `startWorker` is a Node worker-thread helper; a page starts its Web Workers itself. */
export function startWorker(): never {
  throw new Error(
    'sirius tracing: startWorker() starts Node worker threads and does not exist in browsers; create Web Workers with `new Worker(...)` (the library records on the page\'s main thread)',
  );
}
