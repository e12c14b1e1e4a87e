/**
 * Hostile clients against a real `sirius serve` process (its own RSS, read from /proc): a flood of idle,
 * unauthenticated PostgreSQL connections from many loopback addresses while /health is timed, then 4
 * connections each announcing a 30 MiB password. Runs alone too: `node --import tsx bench/src/hostile-clients.ts`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, listeningUrl, median, rssMiB } from './served-process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const KEY = 'bench-key';
const FLOOD = Number(process.env.SIRIUS_BENCH_FLOOD ?? 5000);
const MiB = 1024 * 1024;

export async function run(): Promise<Record<string, number | string>> {
  const dir = await mkdtemp(join(tmpdir(), 'sirius-hostile-'));
  const pgPort = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'packages/server/src/cli/main.ts', 'serve', '--roles', 'analytics',
    '--http-port', '0', '--pg-port', String(pgPort), '--flight-port', 'off', '--data-dir', dir], {
    cwd: ROOT, env: { ...process.env, SIRIUS_QUERY_KEYS: KEY, SIRIUS_SQL_CONNECTION_STRING: 'memory://' }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const url = await listeningUrl(child);
    const rssAtStart = rssMiB(child.pid!);

    // 1. the flood: idle sockets that never send a byte, spread over 100 loopback addresses
    const sockets: Socket[] = [];
    const refused = { count: 0 };
    const healthMs: number[] = [];
    const probing = (async () => {
      while (sockets.length < FLOOD) healthMs.push(await timedHealth(url));
    })();
    for (let i = 0; i < FLOOD; i++) {
      sockets.push(await idleSocket(pgPort, `127.0.1.${1 + (i % 100)}`, refused));
    }
    await probing;
    // refusals arrive right after each connect; the accepted ones stay silent
    await new Promise((r) => setTimeout(r, 2000));
    for (let i = 0; i < 5; i++) healthMs.push(await timedHealth(url));
    const rssFlood = rssMiB(child.pid!);
    const open = sockets.filter((s) => !s.destroyed).length;
    for (const s of sockets) s.destroy();

    // 2. four connections announcing a 30 MiB password, each sending all of it
    await new Promise((r) => setTimeout(r, 1500));
    const rssBefore = rssMiB(child.pid!);
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssMiB(child.pid!))), 10);
    const payload = Buffer.alloc(30 * MiB, 0x41);
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: 4 }, () => hugePassword(pgPort, payload)));
    const attackMs = performance.now() - started;
    clearInterval(sampler);
    const attackHealthMs = await timedHealth(url);

    return {
      'idle connections attempted': FLOOD,
      'refused with 53300': refused.count,
      'still open after 2 s (accepted, within the bounds)': open,
      'closed without a message (too many refusals lingering)': FLOOD - open - refused.count,
      '/health max ms during the flood': Math.max(...healthMs),
      '/health median ms during the flood': median(healthMs),
      'server RSS MiB at start': rssAtStart,
      'server RSS MiB with the flood held': rssFlood,
      'server RSS MiB before the 30 MiB passwords': rssBefore,
      'server RSS MiB peak during them': rssPeak,
      'huge-password connections answered': answers.join(' '),
      'huge-password attack ms': attackMs,
      '/health ms right after': attackHealthMs,
    };
  } finally {
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
    await rm(dir, { recursive: true, force: true });
  }
}

function idleSocket(port: number, localAddress: string, refused: { count: number }): Promise<Socket> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1', localAddress });
    s.on('error', () => undefined);
    s.once('data', (d: Buffer) => {
      if (d.includes('53300')) refused.count++;
    });
    s.once('connect', () => resolve(s));
    s.once('close', () => resolve(s));
  });
}

/** startup, then a password message declaring 30 MiB and the 30 MiB: resolves with the SQLSTATE answered */
function hugePassword(port: number, payload: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    let got = Buffer.alloc(0);
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got[0] === 0x52 /* R */ && got.length === 9) {
        const head = Buffer.alloc(5);
        head.write('p', 0, 'latin1');
        head.writeInt32BE(4 + payload.length, 1);
        s.write(head);
        s.write(payload);
      }
    });
    s.once('close', () => resolve(/C([0-9A-Z]{5})\0/.exec(got.toString('latin1'))?.[1] ?? 'none'));
    const params = Buffer.from(`user\0sirius\0\0`, 'latin1');
    const start = Buffer.alloc(8 + params.length);
    start.writeInt32BE(start.length, 0);
    start.writeInt32BE(196608, 4);
    params.copy(start, 8);
    s.write(start);
  });
}

async function timedHealth(url: string): Promise<number> {
  const t = performance.now();
  const r = await fetch(`${url}/health`);
  await r.arrayBuffer();
  if (r.status !== 200) throw new Error(`/health answered ${r.status}`);
  return Math.round(performance.now() - t);
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await run());
