/**
 * Hostile queries against a real `sirius serve` process, its RSS sampled from /proc every 10 ms: a result
 * of 1,900 rows of 1 MB strings (refused past the result cap), a 190 MB JSON result (sent piece by piece),
 * and a small query answered meanwhile. Runs alone too: `node --import tsx bench/src/hostile-queries.ts`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listeningUrl, rssMiB } from './served-process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export async function run(): Promise<Record<string, number | string>> {
  const dir = await mkdtemp(join(tmpdir(), 'sirius-hostile-queries-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'packages/server/src/cli/main.ts', 'serve', '--roles', 'analytics',
    '--http-port', '0', '--pg-port', 'off', '--flight-port', 'off', '--data-dir', dir], {
    cwd: ROOT, env: { ...process.env, SIRIUS_SQL_CONNECTION_STRING: 'memory://' }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const url = await listeningUrl(child);
    const out: Record<string, number | string> = { 'server RSS MiB at start': rssMiB(child.pid!) };
    const cases: [string, string][] = [
      // the smaller first: glibc keeps what the larger one freed, which would hide the smaller one's peak
      ['190,000 rows × 1 kB strings as JSON', `SELECT i, repeat('x', 1000) AS s FROM range(190000) r(i)`],
      ['1,900 rows × 1 MB strings', `SELECT repeat('x', 1000000) AS s FROM range(1900)`],
    ];
    for (const [name, sql] of cases) {
      let peak = rssMiB(child.pid!);
      out[`${name}: server RSS MiB before`] = peak;
      const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(child.pid!))), 10);
      const started = performance.now();
      const big = ask(url, sql);
      const small = await ask(url, 'SELECT 42 AS answer');
      const answer = await big;
      clearInterval(sampler);
      out[`${name}: status`] = answer.status;
      out[`${name}: bytes received`] = answer.bytes;
      out[`${name}: seconds`] = (performance.now() - started) / 1000;
      out[`${name}: server RSS MiB, peak`] = peak;
      out[`${name}: small query meanwhile`] = small.status;
    }
    out['server RSS MiB after'] = rssMiB(child.pid!);
    return out;
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await rm(dir, { recursive: true, force: true });
  }
}

async function ask(url: string, sql: string): Promise<{ status: number; bytes: number }> {
  const r = await fetch(`${url}/api/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ sql, begin: '1h' }),
  });
  let bytes = 0;
  for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) bytes += chunk.byteLength;
  return { status: r.status, bytes };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await run());
