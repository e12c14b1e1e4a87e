/**
 * PGlite's files may be opened by one process at a time: a second one (say `sirius admin` while
 * `sirius serve` runs) would corrupt them. The folder is claimed with a lock file holding the owner's pid,
 * created exclusively; a lock whose process is gone is stale and taken over.
 */
import { openSync, writeSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export class DatabaseInUseError extends Error {
  override readonly name = 'DatabaseInUseError';
}

/** Claims `dir` for this process; returns the release function. Throws `DatabaseInUseError` if another live process holds it. */
export function lockPgliteDir(dir: string): () => void {
  const path = join(dir, 'sirius.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new DatabaseInUseError(
          `the embedded database in ${dir} is in use by process ${owner} (PGlite allows one process at a time): ` +
            'stop that process, or share a PostgreSQL server through SIRIUS_SQL_CONNECTION_STRING',
        );
      }
      if (owner === process.pid) {
        throw new DatabaseInUseError(`the embedded database in ${dir} is already open in this process`);
      }
      rmSync(path, { force: true }); // stale: its process is gone
    }
  }
  throw new DatabaseInUseError(`could not lock the embedded database in ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
