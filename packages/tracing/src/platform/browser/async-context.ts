/**
 * The current async span in a browser. Browsers have no AsyncLocalStorage, so the parent is known only
 * while `fn` runs synchronously: async spans started before `fn`'s first `await` get it as their parent,
 * those started after an `await` do not (they become roots). Thread spans are unaffected.
 */
let current = 0;

/** the id of the innermost async span around the caller, 0 at the top */
export function currentSpan(): number {
  return current;
}

/** Runs `fn` with `spanId` as the current async span for its synchronous part. */
export function withSpan<T>(spanId: number, fn: () => T): T {
  const previous = current;
  current = spanId;
  try {
    return fn();
  } finally {
    current = previous;
  }
}
