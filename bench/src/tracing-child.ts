/**
 * Shared by the tracing benchmarks: the instrumented process runs as a child (so the server it sends to,
 * in the parent, does not compete for its thread); the parent starts a real server and reads the lake.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '@sirius/server';

export async function withServer<T>(fn: (server: RunningServer) => Promise<T>): Promise<T> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sirius-bench-tracing-'));
  const server = await startServer({ httpPort: 0, dataDir, roles: ['ingestion'], quiet: true });
  try {
    return await fn(server);
  } finally {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Runs `file` as a child with `env`, returns its last stdout line parsed as JSON. */
export async function runChildJson<T>(file: string, env: Record<string, string>): Promise<T> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--expose-gc', file], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`${file} exited with ${code}`);
  const last = out.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as T;
}
