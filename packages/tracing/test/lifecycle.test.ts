/**
 * Programs that never call shutdown() still deliver what they recorded: the library flushes when the
 * event loop runs dry ('beforeExit') and on SIGTERM, within its deadline, and then lets the process end.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { startServer, type RunningServer } from '@sirius/server';
import { readStreams } from './support/read-lake.js';
import { waitFor } from './support/wait-for.js';

const CHILD = fileURLToPath(new URL('./fixtures/lifecycle-child.ts', import.meta.url));
const N = 200;
let server: RunningServer;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sirius-lifecycle-'));
  server = await startServer({ httpPort: 0, dataDir: dir, sqlConnectionString: 'memory://', objectStoreUri: 'memory://', roles: ['ingestion'], quiet: true });
});
after(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

function start(end: 'exit' | 'sigterm') {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, SIRIUS_TELEMETRY_URL: server.url, LIFECYCLE_N: String(N), LIFECYCLE_END: end },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { proc, exited, out: () => out, err: () => err };
}

/** the events of the child's process, by stream tag */
async function delivered(): Promise<{ logs: number; spanEvents: number }> {
  const streams = await readStreams(server.lake);
  const procs = await server.lake.sql.query<{ process_id: string }>('SELECT process_id FROM processes ORDER BY insert_time DESC LIMIT 1');
  const mine = streams.filter((s) => s.process_id === procs[0]?.process_id);
  const count = (tag: string) => mine.filter((s) => s.tags.includes(tag)).reduce((a, s) => a + s.events.length, 0);
  return { logs: count('log'), spanEvents: count('cpu') };
}

// a library that kept the process alive would hang here: the timeout turns that into a failure
test("a program whose event loop runs dry is flushed on 'beforeExit' and exits by itself", { timeout: 60_000 }, async () => {
  const child = start('exit');
  const { code } = await child.exited;
  assert.equal(code, 0, child.err());
  assert.deepEqual(await delivered(), { logs: N, spanEvents: 2 * N });
});

test('SIGTERM flushes what was recorded, then the process terminates', { timeout: 60_000 }, async () => {
  const child = start('sigterm');
  await waitFor('the child to be ready', () => child.out().includes('ready'));
  child.proc.kill('SIGTERM');
  const ended = await child.exited;
  assert.ok(ended.signal === 'SIGTERM' || ended.code !== null, `still running? ${JSON.stringify(ended)}`);
  assert.deepEqual(await delivered(), { logs: N, spanEvents: 2 * N });
});
