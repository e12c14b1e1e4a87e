/**
 * Takes absolute file paths out of messages that go to clients. DuckDB names the files it failed on, and
 * those paths reveal the server's data folder layout (and the user running it); the object key is what a
 * user can act on, so a path inside the store becomes its key and any other path just its file name.
 *
 * @example
 *   redactPaths('IO Error: No files found that match the pattern "/srv/sirius/objects/views/log_entries/global/a.parquet"')
 *   // 'IO Error: No files found that match the pattern "views/log_entries/global/a.parquet"'
 */

/** the first segments of object keys (object-store.ts); a path containing one continues as a key */
const KEY_ROOTS = new Set(['views', 'blobs', 'notebooks']);

// an absolute POSIX path: a '/' that does not continue a word, a relative path, a URL or a label, then segments
const ABS_PATH = /(?<![\w.\/:~@%>-])\/(?:[^\s'"`,;()[\]{}<>|*?/\\]+\/)*[^\s'"`,;()[\]{}<>|*?/\\]+/g;

export interface KnownDir {
  /** absolute folder, without a trailing slash */
  dir: string;
  /** what it becomes in messages, e.g. '<data dir>' */
  label: string;
}

export function redactPaths(text: string, known: readonly KnownDir[] = []): string {
  let out = text;
  // longest first, so a folder inside another keeps its own label
  for (const { dir, label } of [...known].sort((a, b) => b.dir.length - a.dir.length)) {
    if (dir.length > 1) out = out.split(dir).join(label);
  }
  return out.replace(ABS_PATH, (path) => {
    const segs = path.split('/').filter((s) => s !== '');
    const at = segs.findIndex((s, i) => KEY_ROOTS.has(s) && i < segs.length - 1);
    if (at >= 0) return segs.slice(at).join('/');
    const base = segs[segs.length - 1] ?? '';
    // the query cache names its files by the encoded object key
    if (base.includes('%2F')) {
      try {
        const key = decodeURIComponent(base);
        if (KEY_ROOTS.has(key.split('/')[0] ?? '')) return key;
      } catch {
        // not an encoded key after all
      }
    }
    return segs.length > 1 ? `…/${base}` : path;
  });
}
