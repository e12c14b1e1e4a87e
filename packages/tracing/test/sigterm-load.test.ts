/**
 * SIGTERM under CPU pressure: every core is kept busy by spinning child processes, the instrumented program
 * itself is busy, and it is stopped with SIGTERM. With the deadline raised through SIRIUS_FLUSH_TIMEOUT_MS the
 * library's flush must deliver the process, its streams, every log and every metric it recorded (spans as
 * many as fit). Asserts content, never time.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { startServer, type RunningServer } from '@sirius/server';
import { readStreams } from './support/read-lake.js';
import { waitFor } from './support/wait-for.js';

const CHILD = fileURLToPath(new URL('./fixtures/busy-child.ts', import.meta.url));
const N = 400;
let server: RunningServer;
let dir: string;
const spinners: ChildProcess[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sirius-sigterm-load-'));
  server = await startServer({ httpPort: 0, dataDir: dir, sqlConnectionString: 'memory://', objectStoreUri: 'memory://', roles: ['ingestion'], quiet: true });
});
after(async () => {
  for (const s of spinners) if (s.exitCode === null && s.signalCode === null) s.kill('SIGKILL');
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

test('SIGTERM with every CPU saturated: the process, its streams, every log and every metric are stored', { timeout: 300_000 }, async () => {
  // one spinning process per core, so the instrumented program competes for CPU the whole time
  for (let i = 0; i < availableParallelism(); i++) {
    spinners.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  }
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, SIRIUS_TELEMETRY_URL: server.url, BUSY_N: String(N), SIRIUS_FLUSH_TIMEOUT_MS: '120000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  await waitFor(`the child to record everything (stderr: ${err})`, () => out.includes('ready'), 180_000);
  proc.kill('SIGTERM');
  const ended = await exited;
  for (const s of spinners) s.kill('SIGKILL');
  assert.equal(ended.signal, 'SIGTERM', `the library re-raises SIGTERM after its flush: ${JSON.stringify(ended)} ${err}`);
  assert.doesNotMatch(err, /sirius tracing/);

  const procs = await server.lake.sql.query<{ process_id: string }>("SELECT process_id FROM processes WHERE exe = 'tracing-busy-child'");
  assert.equal(procs.length, 1, 'the process is stored');
  const streams = (await readStreams(server.lake)).filter((s) => s.process_id === procs[0]!.process_id);
  assert.deepEqual(streams.map((s) => s.tags[0]).sort(), ['cpu', 'log', 'metrics'], 'its three streams are stored');
  const of = (tag: string) => streams.find((s) => s.tags.includes(tag))!.events;

  const logs = of('log').map((e) => (e.kind === 'log' ? `${e.level} ${e.target} ${e.msg} ${e.properties?.i}` : e.kind));
  assert.deepEqual(logs.sort(), Array.from({ length: N }, (_, i) => `4 busy busy line ${i} ${i}`).sort(), 'every log exactly once');
  const values = of('metrics').map((e) => (e.kind === 'float_metric' && e.name === 'busy.value' ? e.value : NaN));
  assert.deepEqual(values.sort((a, b) => a - b), Array.from({ length: N }, (_, i) => i), 'every metric exactly once');

  const spans = of('cpu');
  assert.ok(spans.every((e) => e.kind === 'begin_thread_span' || e.kind === 'end_thread_span'));
  console.log(`# spans delivered: ${spans.length / 2} of the busy child's (as many as fit)`);
});
