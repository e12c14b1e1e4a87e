/**
 * Where payloads live: raw blocks at `blobs/<process_id>/<stream_id>/<block_id>` and Parquet partitions at
 * `views/<view_set>/<instance>/<begin>_<end>_<file_id>.parquet`. Objects are create-only: written once and
 * never modified, so a client re-sending an id with other bytes cannot rewrite what a row already describes.
 * Implementations: `file://`, `memory://`, `s3://`; one conformance suite runs against all three.
 */
export interface ObjectStore {
  /** the URI this store was opened from, for messages */
  readonly uri: string;
  /**
   * Creates the object, whole or not at all (a reader never sees a partial object). Create-only: when the key
   * already holds the same bytes the answer is 'same' (a retry), and other bytes throw `ObjectConflictError`
   * with the stored object left as it was. A deleted key can be created again.
   */
  put(key: string, body: Uint8Array): Promise<PutResult>;
  /** Throws `ObjectNotFoundError` when absent. */
  get(key: string): Promise<Uint8Array>;
  /** null when absent */
  head(key: string): Promise<{ size: number } | null>;
  /** Deletes keys; absent keys are not an error. */
  delete(keys: readonly string[]): Promise<void>;
  /** every key under `prefix`, in no particular order */
  list(prefix: string): AsyncIterable<{ key: string; size: number }>;
  /** A local file path DuckDB can read directly, when the store is a local folder; else undefined. */
  localPath(key: string): string | undefined;
  /** true when the store answers (used by `GET /ready`) */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** 'created': this call wrote the object; 'same': the key already held these very bytes. */
export type PutResult = 'created' | 'same';

export class ObjectNotFoundError extends Error {
  override readonly name = 'ObjectNotFoundError';
  constructor(readonly key: string) {
    super(`object not found: ${key}`);
  }
}

/** A put found its key holding other bytes; nothing was written. */
export class ObjectConflictError extends Error {
  override readonly name = 'ObjectConflictError';
  constructor(readonly key: string) {
    super(`object already exists with other content: ${key}`);
  }
}

/** Byte equality, for deciding whether a put on an existing key is a retry. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

export function blobKey(processId: string, streamId: string, blockId: string): string {
  return `blobs/${processId}/${streamId}/${blockId}`;
}
