/**
 * `sirius serve` as a child process for CLI tests: its output, its exit, and the URL from its startup line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const MAIN = join(ROOT, 'packages/server/src/cli/main.ts');

export interface ServeChild {
  child: ChildProcess;
  /** stdout and stderr so far */
  output(): string;
  exited: Promise<number | null>;
  /** the URL of the startup line, or throws with the output when the process exits first or the deadline passes */
  url(deadlineMs?: number): Promise<string>;
  stop(): Promise<number | null>;
}

/** the environment with the lake settings cleared, so a test's flags decide */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, SIRIUS_SQL_CONNECTION_STRING: '', SIRIUS_OBJECT_STORE_URI: '', ...extra };
  for (const k of Object.keys(env)) {
    if (/^SIRIUS_(RETENTION|QUERY_|SHUTDOWN_|SELF_TELEMETRY|HTTP_PORT|FLIGHT_PORT|PG_PORT)/.test(k) && !(k in extra)) delete env[k];
  }
  return env;
}

export function serve(args: string[], env: NodeJS.ProcessEnv = cleanEnv()): ServeChild {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve', ...args], { cwd: ROOT, env });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));
  return {
    child,
    output: () => out,
    exited,
    async url(deadlineMs = 120_000) {
      const deadline = Date.now() + deadlineMs;
      for (;;) {
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) return m[1]!;
        if (done) throw new Error(`sirius serve exited before listening: ${out}`);
        if (Date.now() > deadline) throw new Error(`no startup line within ${deadlineMs} ms: ${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      if (!done) child.kill('SIGTERM');
      return exited;
    },
  };
}
