/**
 * `file:///abs/path`: one file per object under a root folder. A put writes a temporary file in the target
 * folder and hard-links it into place: link() is atomic and fails when the name exists (rename would replace
 * it), so a reader sees the whole object or none and a second put of the key never rewrites the first.
 * The folder must be on a file system with hard links (any local POSIX one).
 * There is no fsync per object: a machine crash can lose the newest objects; a sync per block would cap ingestion.
 * `localPath` gives DuckDB the real file path, so Parquet is read without a copy.
 */
import { mkdir, writeFile, readFile, readdir, link, rm, stat, access } from 'node:fs/promises';
import { constants } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ObjectConflictError, ObjectNotFoundError, sameBytes, type ObjectStore } from './object-store.js';
import { assertValidKey } from './object-key.js';

/** temp files carry this marker so `list` can skip objects still being written */
const TMP_MARK = '.tmp-';

export function createFileObjectStore(root: string, uri = `file://${root}`): ObjectStore {
  const pathOf = (key: string) => {
    assertValidKey(key);
    return join(root, ...key.split('/'));
  };
  // folders this store has made; a stream's blocks share one, so most puts skip the mkdir round trip
  const madeDirs = new Set<string>();
  const ensureDir = async (dir: string) => {
    if (madeDirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    if (madeDirs.size > 10_000) madeDirs.clear();
    madeDirs.add(dir);
  };
  return {
    uri,
    async put(key, body) {
      const path = pathOf(key);
      const dir = dirname(path);
      await ensureDir(dir);
      const tmp = join(dir, `${TMP_MARK}${randomBytes(6).toString('hex')}`);
      try {
        await writeFile(tmp, body).catch(async (err: unknown) => {
          // the folder was removed behind our back: make it again, once
          if (!isNotFound(err)) throw err;
          madeDirs.delete(dir);
          await ensureDir(dir);
          await writeFile(tmp, body);
        });
        try {
          await link(tmp, path);
          return 'created';
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        // whoever linked it first wrote a complete file, so this read sees all of it
        if (sameBytes(await readFile(path), body)) return 'same';
        throw new ObjectConflictError(key);
      } finally {
        await rm(tmp, { force: true });
      }
    },
    async get(key) {
      try {
        return new Uint8Array(await readFile(pathOf(key)));
      } catch (err) {
        if (isNotFound(err)) throw new ObjectNotFoundError(key);
        throw err;
      }
    },
    async head(key) {
      try {
        const s = await stat(pathOf(key));
        return s.isFile() ? { size: s.size } : null;
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
    },
    async delete(keys) {
      await Promise.all(keys.map((k) => rm(pathOf(k), { force: true })));
    },
    async *list(prefix) {
      // walk only the deepest folder the prefix fully names, then filter by the full prefix
      const dirPart = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
      yield* walk(root, dirPart ? join(root, ...dirPart.split('/')) : root, prefix);
    },
    localPath: (key) => pathOf(key),
    async ping() {
      try {
        // a fresh data dir has no objects folder yet; creating it is part of being ready
        await mkdir(root, { recursive: true });
        await access(root, constants.W_OK);
        return true;
      } catch {
        return false;
      }
    },
    async close() {},
  };
}

async function* walk(root: string, dir: string, prefix: string): AsyncGenerator<{ key: string; size: number }> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      yield* walk(root, path, prefix);
    } else if (e.isFile() && !e.name.startsWith(TMP_MARK)) {
      const key = relative(root, path).split(sep).join('/');
      if (!key.startsWith(prefix)) continue;
      const s = await stat(path).catch(() => null);
      if (s) yield { key, size: s.size };
    }
  }
}

function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
