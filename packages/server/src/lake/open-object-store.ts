/**
 * Opens the object store a URI names: `file:///abs/path` (or a plain path), `memory://`, `s3://bucket/prefix`.
 *
 * @example
 *   const objects = openObjectStore(process.env.SIRIUS_OBJECT_STORE_URI ?? `file://${dataDir}/objects`);
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFileObjectStore } from './file-object-store.js';
import { createMemoryObjectStore } from './memory-object-store.js';
import { createS3ObjectStore } from './s3-object-store.js';
import type { ObjectStore } from './object-store.js';
import { withOutageErrors } from './outage-object-store.js';

export interface OpenObjectStoreOptions {
  /**
   * S3: ms to wait for a connection and, separately, on a silent socket, per attempt (default 5000; the SDK
   * makes up to 3 attempts). Without it a partition leaves requests hanging for minutes.
   */
  timeoutMs?: number;
}

/** Outages (full or vanished disk, unreachable S3) surface as `UnavailableError`; see outage-object-store.ts. */
export function openObjectStore(uri: string, opts: OpenObjectStoreOptions = {}): ObjectStore {
  return withOutageErrors(openRaw(uri, opts));
}

function openRaw(uri: string, opts: OpenObjectStoreOptions): ObjectStore {
  if (uri === 'memory://' || uri.startsWith('memory://')) return createMemoryObjectStore(uri);
  if (uri.startsWith('file://')) {
    // file://relative/path is not a valid file URL; accept it as a path relative to the working directory
    const path = uri.startsWith('file:///') ? fileURLToPath(uri) : resolve(uri.slice('file://'.length));
    return createFileObjectStore(path, uri);
  }
  if (uri.startsWith('s3://')) {
    const rest = uri.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    const prefix = slash < 0 ? '' : rest.slice(slash + 1);
    if (!bucket) throw new Error(`object store URI has no bucket: ${uri}`);
    const timeoutMs = opts.timeoutMs ?? 5000;
    return createS3ObjectStore(bucket, prefix, uri, {
      // idle, not total, time: a large partition may take long to download but never goes silent that long
      // (the SDK's requestTimeout only logs a warning unless told to throw, and then cuts long transfers)
      client: { requestHandler: { connectionTimeout: timeoutMs, socketTimeout: timeoutMs }, maxAttempts: 3 },
    });
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) return createFileObjectStore(resolve(uri), `file://${resolve(uri)}`);
  throw new Error(`unsupported object store URI (want file://, s3:// or memory://): ${uri}`);
}
