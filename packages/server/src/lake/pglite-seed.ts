/**
 * A new embedded database starts from a prepared copy instead of running initdb. PGlite's initdb takes
 * seconds and leaves the process that ran it holding ~500 MB of WebAssembly memory it never gives back, so
 * it runs once per PGlite version, in a worker thread (its memory goes with the worker), into a template
 * folder that every new data dir is copied from. Opening a copied folder costs what reopening does.
 *
 * The template lives in `node_modules/.cache/sirius/` next to PGlite (cleared by a fresh install), else
 * in the system temp folder.
 *
 * @example
 *   await seedPgliteDir('/data/.sirius/pglite'); // no-op when the folder already holds a database
 *   const db = new PGlite('/data/.sirius/pglite');
 */
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/** PostgreSQL writes this file last in initdb; PGlite runs initdb when it is missing */
const MARKER = 'PG_VERSION';

export async function seedPgliteDir(dir: string): Promise<void> {
  if (existsSync(join(dir, MARKER))) return;
  const template = await pgliteTemplate();
  if (template === undefined) return; // nowhere to keep one: PGlite runs initdb in the folder itself
  mkdirSync(dir, { recursive: true });
  // the marker last: a copy cut short is not taken for a database, and is copied over next time
  cpSync(template, dir, { recursive: true, filter: (src) => src !== join(template, MARKER) });
  cpSync(join(template, MARKER), join(dir, MARKER));
}

let pending: Promise<string | undefined> | undefined;

/** the template folder for the installed PGlite, made on first use; undefined when no folder is writable */
function pgliteTemplate(): Promise<string | undefined> {
  pending ??= makeTemplate().finally(() => (pending = undefined));
  return pending;
}

async function makeTemplate(): Promise<string | undefined> {
  const entry = import.meta.resolve('@electric-sql/pglite');
  const version = pgliteVersion(fileURLToPath(entry));
  for (const root of cacheRoots(fileURLToPath(entry))) {
    const template = join(root, `pglite-${version}`);
    if (existsSync(join(template, MARKER))) return template;
    try {
      mkdirSync(root, { recursive: true });
    } catch {
      continue; // a read-only install: try the next place
    }
    const scratch = `${template}.${process.pid}.${randomBytes(4).toString('hex')}`;
    try {
      await initdbInWorker(entry, scratch);
      try {
        renameSync(scratch, template);
      } catch (err) {
        // another process made it first: use theirs
        if (!existsSync(join(template, MARKER))) throw err;
      }
      return template;
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }
  return undefined;
}

function initdbInWorker(pgliteUrl: string, dir: string): Promise<void> {
  const code = `
    const { workerData } = require('node:worker_threads');
    import(workerData.url).then(async ({ PGlite }) => {
      const db = new PGlite(workerData.dir);
      await db.waitReady;
      await db.close();
    });`;
  return new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: { url: pgliteUrl, dir } });
    worker.once('error', reject);
    worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`PGlite initdb exited with code ${code}`))));
  });
}

function pgliteVersion(entryPath: string): string {
  for (let d = dirname(entryPath); d !== dirname(d); d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) {
      const pkg = JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === '@electric-sql/pglite' && pkg.version) return pkg.version;
    }
  }
  // unknown version: key the template by the files PGlite ships instead of sharing a wrong one
  return `unknown-${readdirSync(dirname(entryPath)).length}`;
}

function cacheRoots(entryPath: string): string[] {
  const roots: string[] = [];
  const at = entryPath.lastIndexOf(`${sep}node_modules${sep}`);
  if (at >= 0) roots.push(join(entryPath.slice(0, at), 'node_modules', '.cache', 'sirius'));
  roots.push(join(tmpdir(), `sirius-cache-${process.getuid?.() ?? 'user'}`));
  return roots;
}
