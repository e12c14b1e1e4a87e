/**
 * A real `sirius serve` child process (every role, embedded lake in a temp dir, free ports) holding the
 * recording of demo-sender.ts, for tests that exercise the server as users meet it: docs examples over the
 * PostgreSQL gateway, the Python notebook.
 *
 * @example
 *   const demo = await startLiveDemo();
 *   // psql -h 127.0.0.1 -p demo.pgPort …; fetch(`${demo.url}/api/query`, …)
 *   await demo.stop();
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, ROOT, serve } from '../cli/serve-process.js';
import { freePort } from './free-port.js';
import { DEMO_FACTS } from './demo-sender.js';

export { DEMO_FACTS };

export interface LiveDemo {
  url: string;
  pgPort: number;
  flightPort: number;
  stop(): Promise<void>;
}

export async function startLiveDemo(): Promise<LiveDemo> {
  const dir = await mkdtemp(join(tmpdir(), 'sirius-live-demo-'));
  const [http, pg, flight] = [await freePort(), await freePort(), await freePort()];
  const server = serve(['--http-port', String(http), '--pg-port', String(pg), '--flight-port', String(flight), '--data-dir', dir], cleanEnv());
  const stop = async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const url = await server.url();
    const sender = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'packages/server/test/support/demo-sender.ts')], {
      cwd: ROOT, env: { ...process.env, SIRIUS_TELEMETRY_URL: url }, stdio: ['ignore', 'inherit', 'inherit'],
    });
    const code = await new Promise<number | null>((resolve) => sender.on('exit', resolve));
    if (code !== 0) throw new Error(`the demo sender exited with ${code}`);
    // delivered means stored; wait until every event is also queryable
    const deadline = Date.now() + 120_000;
    for (;;) {
      const n = await count(url, `SELECT (SELECT count(*) FROM measures WHERE name = 'frame_time') * 1000 + (SELECT count(*) FROM log_entries WHERE level <= 2) AS n`);
      if (n === DEMO_FACTS.frames * 1000 + DEMO_FACTS.errors) break;
      if (Date.now() > deadline) throw new Error(`the demo recording is not all queryable after 120 s (got ${n}): ${server.output()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    return { url, pgPort: pg, flightPort: flight, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function count(url: string, sql: string): Promise<number> {
  const r = await fetch(`${url}/api/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sql, begin: '1h', end: 'now' }) });
  if (r.status !== 200) return -1;
  const body = (await r.json()) as { rows: { n: number | string }[] };
  return Number(body.rows[0]?.n ?? -1);
}
