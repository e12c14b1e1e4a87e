/**
 * The current async span, carried across awaits by AsyncLocalStorage. Created on first use, so programs
 * that never call `spanAsync` do not pay for async context tracking.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

let storage: AsyncLocalStorage<number> | undefined;

/** the id of the innermost async span around the caller, 0 at the top */
export function currentSpan(): number {
  return storage === undefined ? 0 : (storage.getStore() ?? 0);
}

/** Runs `fn` with `spanId` as the current async span. */
export function withSpan<T>(spanId: number, fn: () => T): T {
  storage ??= new AsyncLocalStorage<number>();
  return storage.run(spanId, fn);
}
