/**
 * What a `sirius` command costs before it does anything, and what a fresh server costs before it serves:
 * `sirius --help` and a one-row `sirius query` (wall time of the whole process, next to `node --import tsx`
 * doing nothing: the runtime's own floor), then `sirius serve` on an empty data dir, from spawn to
 * `/ready` answering 200, and its resident memory once idle. Best of N; processes run one at a time.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listeningUrl, rssMiB } from './served-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'packages/server/src/cli/main.ts');
const BUILT = join(ROOT, 'packages/server/bin/sirius.js');
const RUNS = Number(process.env.BENCH_CLI_RUNS ?? 5);
const SERVER_RUNS = Number(process.env.BENCH_SERVER_RUNS ?? 3);
const IDLE_MS = 3_000;

/** the built CLI runs as installed: without the export condition that points @sirius/* at TypeScript source */
const INSTALLED_ENV = { ...process.env, NODE_OPTIONS: (process.env.NODE_OPTIONS ?? '').replace(/--conditions=sirius-source/g, '') };

function wallMs(args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', env });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const best = (n: number, f: () => number) => Math.min(...Array.from({ length: n }, f));

/** the built CLI's figure, or why there is none (dist/ is made by `npm run build`, and may be stale) */
function builtFigure(f: () => number): number | string {
  try {
    return Math.round(f());
  } catch (err) {
    return `not measured: ${String((err as Error).message).split('\n').find((l) => /Error/.test(l)) ?? 'the built CLI failed'}`;
  }
}

interface Started {
  readyMs: number;
  url: string;
  stop(): Promise<void>;
  pid: number;
}

async function startServe(): Promise<Started> {
  const dir = mkdtempSync(join(tmpdir(), 'sirius-bench-start-'));
  const t = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve', '--http-port', '0', '--flight-port', '0', '--pg-port', '0', '--data-dir', dir], {
    cwd: ROOT,
    env: { ...process.env, SIRIUS_SQL_CONNECTION_STRING: '', SIRIUS_OBJECT_STORE_URI: '', SIRIUS_SELF_TELEMETRY: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const url = await listeningUrl(child);
  for (;;) {
    const res = await fetch(`${url}/ready`).catch(() => undefined);
    if (res?.status === 200) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const readyMs = performance.now() - t;
  return {
    readyMs,
    url,
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function run() {
  const out: Record<string, number | string> = {};
  out['node --import tsx (nothing), best ms'] = Math.round(best(RUNS, () => wallMs(['--import', 'tsx', '-e', '0'])));
  out['sirius --help (tsx), best ms'] = Math.round(best(RUNS, () => wallMs(['--import', 'tsx', MAIN, '--help'])));
  if (existsSync(join(ROOT, 'packages/server/dist/cli/main.js'))) {
    out['node (nothing), best ms'] = Math.round(best(RUNS, () => wallMs(['-e', '0'])));
    out['sirius --help (built bin), best ms'] = builtFigure(() => best(RUNS, () => wallMs([BUILT, '--help'], INSTALLED_ENV)));
  }
  const ready: number[] = [];
  const idle: number[] = [];
  for (let i = 0; i < SERVER_RUNS; i++) {
    const s = await startServe();
    ready.push(s.readyMs);
    try {
      await new Promise((r) => setTimeout(r, IDLE_MS));
      idle.push(rssMiB(s.pid));
      if (i === 0) {
        const q = ['query', 'SELECT 1 AS x', '--url', s.url];
        out['sirius query, one row (tsx), best ms'] = Math.round(best(RUNS, () => wallMs(['--import', 'tsx', MAIN, ...q])));
        if (existsSync(join(ROOT, 'packages/server/dist/cli/main.js'))) {
          out['sirius query, one row (built bin), best ms'] = builtFigure(() => best(RUNS, () => wallMs([BUILT, ...q], INSTALLED_ENV)));
        }
      }
    } finally {
      await s.stop();
    }
  }
  out['sirius serve, empty data dir: spawn to /ready 200, best ms'] = Math.round(Math.min(...ready));
  out[`sirius serve, idle RSS after ${IDLE_MS / 1000} s, best MiB`] = Math.min(...idle);
  out['runs'] = `${RUNS} per CLI figure, ${SERVER_RUNS} server starts (PGlite template made beforehand by the first start on this install)`;
  return out;
}
