/**
 * Wraps an object store so that an outage — a full, read-only or vanished disk, an S3 endpoint that refuses,
 * resets, times out or answers 5xx — surfaces as `UnavailableError('object store')` (→ 503 + Retry-After)
 * instead of an error whose message names the folder or the endpoint. Everything else (not found, invalid
 * key, conflicts) passes through unchanged, and so do the store's other properties (an S3 handle's `client`).
 */
import type { ObjectStore } from './object-store.js';
import { UnavailableError, isOutageErrno, isUnavailable } from './unavailable.js';

export function withOutageErrors<S extends ObjectStore>(inner: S): S {
  const guard = async <T>(op: () => Promise<T>, writing = false): Promise<T> => {
    try {
      return await op();
    } catch (err) {
      throw asObjectStoreUnavailable(err, writing);
    }
  };
  return {
    ...inner,
    put: (key, body) => guard(() => inner.put(key, body), true),
    get: (key) => guard(() => inner.get(key)),
    head: (key) => guard(() => inner.head(key)),
    delete: (keys) => guard(() => inner.delete(keys), true),
    async *list(prefix) {
      const it = inner.list(prefix)[Symbol.asyncIterator]();
      for (;;) {
        const r = await guard(() => it.next());
        if (r.done) return;
        yield r.value;
      }
    },
  };
}

/** S3 SDK error names for a request that never got an answer */
const S3_TRANSPORT_ERRORS = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'AbortError', 'NetworkingError']);

export function asObjectStoreUnavailable(err: unknown, writing = false): unknown {
  if (isUnavailable(err)) return err;
  const e = err as { code?: string; name?: string; syscall?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  const outage =
    isOutageErrno(err) ||
    (typeof status === 'number' && status >= 500) ||
    (e?.name !== undefined && S3_TRANSPORT_ERRORS.has(e.name)) ||
    // the store's folder (or one above an object) is a file now: nothing can be written until someone fixes it
    (writing && (e?.code === 'ENOTDIR' || (e?.code === 'EEXIST' && e?.syscall === 'mkdir')));
  return outage ? new UnavailableError('object store', { cause: err }) : err;
}
