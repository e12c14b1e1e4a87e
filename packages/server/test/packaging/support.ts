/**
 * Helpers for the packaging tests, which run npm and Sirius the way a user does: commands with their output
 * kept for the failure message, long-running processes killed with their whole process group, and an
 * environment without the repository's `sirius-source` export condition (a user's shell never has it).
 */
import { spawn, type ChildProcess } from 'node:child_process';

export const ROOT = new URL('../../../../', import.meta.url).pathname;

/** process.env without the test runner's NODE_OPTIONS (it selects TypeScript source, absent from tarballs) */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NODE_OPTIONS;
  // set by the outer test runner: a `node --test` started with it reports to that runner, not to its stdout
  delete env.NODE_TEST_CONTEXT;
  // what an outer `npm test` puts in the environment (its package, its prefix /work/main…) must not steer the
  // inner npm; where the cache, the registry and the user's config live still applies
  const KEEP = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig', 'npm_config_globalconfig']);
  for (const k of Object.keys(env)) if (k.toLowerCase().startsWith('npm_') && !KEEP.has(k.toLowerCase())) delete env[k];
  env.npm_config_audit = 'false';
  env.npm_config_fund = 'false';
  env.npm_config_update_notifier = 'false';
  return env;
}

export interface RunResult {
  code: number | null;
  out: string;
  err: string;
  seconds: number;
}

/** Runs a command to its end (at most `timeoutMs`); rejects with its output when it fails. */
export function run(cmd: string, args: string[], o: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number; allowFail?: boolean }): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: o.cwd, env: o.env ?? userEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    let err = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), o.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const r = { code, out, err, seconds: (performance.now() - started) / 1000 };
      if (code === 0 || o.allowFail) resolve(r);
      else reject(new Error(`${cmd} ${args.join(' ')} (in ${o.cwd}) exited with ${code ?? 'a signal (timeout?)'}\n--- stdout\n${tail(out)}\n--- stderr\n${tail(err)}`));
    });
  });
}

/** A long-running process (a server), started in its own process group so `stop` reaches npm's children too. */
export interface Running {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export function start(cmd: string, args: string[], o: { cwd: string; env?: NodeJS.ProcessEnv }): Running {
  const child = spawn(cmd, args, { cwd: o.cwd, env: o.env ?? userEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout!.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
      // npm may exit before the server it started: make sure nothing of the group is left
      killGroup(child, 'SIGKILL');
    },
  };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    // the group is already gone
  }
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, detail: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}\n${tail(detail())}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** GET that resolves undefined while the server is not up yet */
export async function get(url: string): Promise<{ status: number; body: string; type: string } | undefined> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
  if (!res) return undefined;
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') ?? '' };
}

function tail(s: string, n = 4000): string {
  return s.length > n ? `…${s.slice(-n)}` : s;
}
