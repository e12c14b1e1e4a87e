/**
 * `memory://`: objects in a Map, for tests and throwaway servers. Bodies are copied in and out so callers
 * cannot change a stored object by mutating their buffer.
 */
import { ObjectConflictError, ObjectNotFoundError, sameBytes, type ObjectStore } from './object-store.js';
import { assertValidKey } from './object-key.js';

export function createMemoryObjectStore(uri = 'memory://'): ObjectStore {
  const objects = new Map<string, Uint8Array>();
  return {
    uri,
    async put(key, body) {
      assertValidKey(key);
      const old = objects.get(key);
      if (old) {
        if (sameBytes(old, body)) return 'same';
        throw new ObjectConflictError(key);
      }
      objects.set(key, Uint8Array.from(body));
      return 'created';
    },
    async get(key) {
      const o = objects.get(key);
      if (!o) throw new ObjectNotFoundError(key);
      return Uint8Array.from(o);
    },
    async head(key) {
      const o = objects.get(key);
      return o ? { size: o.byteLength } : null;
    },
    async delete(keys) {
      for (const k of keys) objects.delete(k);
    },
    async *list(prefix) {
      for (const [key, o] of [...objects]) if (key.startsWith(prefix)) yield { key, size: o.byteLength };
    },
    localPath: () => undefined,
    ping: async () => true,
    async close() {},
  };
}
