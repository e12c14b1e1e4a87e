/**
 * Cancellation of a resolve. A query's signal aborts when its client leaves or its time budget runs out; the
 * lakehouse checks it between units of work (a segment, a block fetch, a file write) and rejects with the
 * signal's reason, so a cancelled query stops within one unit instead of holding its query slot to the end.
 */

/** Throws the signal's reason (an `AbortError` DOMException unless the caller gave one) once it is aborted. */
export function checkAborted(signal: AbortSignal | undefined): void {
  signal?.throwIfAborted();
}

/**
 * Lets the event loop run timers and I/O, then checks the signal. Needed between units of work on PGlite:
 * its queries run in-process and resolve as promises, so a loop of them never lets a timer or a request in.
 */
export async function yieldTurn(signal: AbortSignal | undefined): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  checkAborted(signal);
}

/**
 * `p`, or a rejection with the signal's reason as soon as it aborts, whichever comes first: for waiting on work
 * shared with other queries, which goes on without this one.
 */
export function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/**
 * `fn` over every item, at most `parallel` at a time, results in order; no new item starts once the signal is
 * aborted (the ones under way finish, the call rejects with the reason).
 */
export async function mapLimit<T, R>(items: readonly T[], parallel: number, fn: (item: T, i: number) => Promise<R>, signal?: AbortSignal): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      checkAborted(signal);
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, worker));
  checkAborted(signal);
  return out;
}
