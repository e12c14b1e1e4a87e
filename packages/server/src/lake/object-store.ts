/**
 * Where payloads live: raw blocks at `blobs/<process_id>/<stream_id>/<block_id>` and Parquet partitions at
 * `views/<view_set>/<instance>/<begin>_<end>_<file_id>.parquet`. Objects are written once and never modified.
 * Implementations: `file://`, `memory://`, `s3://`; one conformance suite runs against all three.
 */
export interface ObjectStore {
  /** the URI this store was opened from, for messages */
  readonly uri: string;
  /** Writes the whole object or nothing (a reader never sees a partial object). Overwrites an existing key. */
  put(key: string, body: Uint8Array): Promise<void>;
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

export class ObjectNotFoundError extends Error {
  override readonly name = 'ObjectNotFoundError';
  constructor(readonly key: string) {
    super(`object not found: ${key}`);
  }
}

export function blobKey(processId: string, streamId: string, blockId: string): string {
  return `blobs/${processId}/${streamId}/${blockId}`;
}
