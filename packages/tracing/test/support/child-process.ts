/** Runs test/fixtures/child.ts in a child Node process and follows the JSON lines it prints. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait-for.js';

const CHILD = fileURLToPath(new URL('../fixtures/child.ts', import.meta.url));

export interface Child {
  proc: ChildProcess;
  steps: Record<string, unknown>[];
  stderr: () => string;
  /** waits for a step line, returns it */
  step(name: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

export function runChild(env: Record<string, string>, nodeArgs: string[] = []): Child {
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', CHILD], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const steps: Record<string, unknown>[] = [];
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    let i;
    while ((i = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, i);
      out = out.slice(i + 1);
      try {
        steps.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        err += `stdout: ${line}\n`;
      }
    }
  });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    proc,
    steps,
    stderr: () => err,
    exited,
    step: (name, timeoutMs = 60_000) =>
      waitFor(`child step ${name} (stderr: ${err.slice(-500)})`, () => steps.find((s) => s.step === name), timeoutMs),
  };
}
