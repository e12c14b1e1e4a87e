/**
 * An ingestion-only `sirius serve` in a child process, for benchmarks that divide work by the server's own
 * CPU time (read from /proc) rather than by wall time, plus a throwaway PostgreSQL database for its metadata.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const MAIN = fileURLToPath(new URL('../../packages/server/src/cli/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export async function postJson(url: string, route: string, body: unknown): Promise<void> {
  const r = await fetch(`${url}/ingestion/${route}`, { method: 'POST', body: JSON.stringify(body) });
  if (r.status !== 200) throw new Error(`${route} answered ${r.status}: ${await r.text()}`);
}

/** starts `sirius serve --roles ingestion` on a free port; metadata in `sqlUrl` (else PGlite under `dir`) */
export async function startIngestionProcess(
  dir: string,
  sqlUrl: string | undefined,
  objectStoreUri: string,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve', '--roles', 'ingestion', '--http-port', '0', '--data-dir', dir], {
    cwd: ROOT,
    env: { ...process.env, SIRIUS_SQL_CONNECTION_STRING: sqlUrl ?? '', SIRIUS_OBJECT_STORE_URI: objectStoreUri, SIRIUS_INGESTION_KEYS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  // a server that dies mid-run says why
  child.once('exit', (code) => code && console.error(`ingestion server exited (${code}): ${out.slice(-2000)}`));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
    if (url) return { child, url };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`the server did not start: ${out}`);
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** user + system CPU seconds of a process (Linux /proc; clock ticks are 100 Hz there) */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** a fresh database on the server at `base`, dropped (forcibly) by `drop()` */
export async function createDatabase(base: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `sirius_bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`).finally(() => admin.end());
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => c.end());
    },
  };
}
