/**
 * Test support for the short-transaction tests: an object store that holds uploads at a gate, so a step can
 * be kept in its build/upload phase without sleeping, and a deadline for promises that must settle.
 */
import type { ObjectStore } from '../../src/lake/object-store.js';

/**
 * An object store whose puts under `prefix` wait until `open()`; `reached` resolves with the first such key
 * and `state.arrived` counts the puts that reached the gate.
 */
export function gatedStore(inner: ObjectStore, prefix: string) {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  let enter!: (key: string) => void;
  const reached = new Promise<string>((r) => (enter = r));
  const state = { arrived: 0, open };
  const store: ObjectStore = {
    uri: inner.uri,
    async put(key, body) {
      if (key.startsWith(prefix)) {
        state.arrived++;
        enter(key);
        await gate;
      }
      return inner.put(key, body);
    },
    get: (key) => inner.get(key),
    head: (key) => inner.head(key),
    delete: (keys) => inner.delete(keys),
    list: (p) => inner.list(p),
    localPath: (key) => inner.localPath(key),
    ping: () => inner.ping(),
    close: async () => {},
  };
  return { store, reached, open, state };
}

/** Rejects when `p` has not settled within `ms` (a deadline, so a regression fails instead of hanging). */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
