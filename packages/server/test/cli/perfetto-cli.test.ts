/**
 * `sirius perfetto` end to end: the real CLI in a child process against a real server. It writes the trace
 * file (read back with an independent Perfetto reader), names the problem for a bad id, a bad range or an
 * unreachable server (exit 1, or 2 for usage), and leaves no file behind when the export fails.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../src/serve.js';
import { post } from '../lakehouse/lake-fixtures.js';
import { decodeTrace } from '../analytics/perfetto-reader.js';
import { traceFixture } from '../endpoints/perfetto-export-fixtures.js';
import { MAIN, ROOT } from './serve-process.js';

let server: RunningServer;
let dir: string;
const fx = traceFixture({ levels: 1 });
const iso = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString();
const RANGE = ['--begin', iso(fx.begin), '--end', iso(fx.end)];

function sirius(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: out, stderr: err }));
  });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sirius-perfetto-cli-'));
  server = await startServer({ httpPort: 0, dataDir: join(dir, 'data'), sqlConnectionString: 'memory://', objectStoreUri: 'memory://', roles: ['ingestion', 'analytics'], quiet: true });
  await post(server, 'insert_process', fx.process);
  for (const s of fx.streams) await post(server, 'insert_stream', s);
  for (const b of fx.blocks) await post(server, 'insert_block', b);
});

after(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

test('sirius perfetto writes the trace file: every span once, at its times', async () => {
  const file = join(dir, 'trace.pftrace');
  const r = await sirius(['perfetto', fx.process.process_id, ...RANGE, '-o', file, '--url', server.url]);
  assert.equal(r.code, 0, r.stderr);
  const bytes = new Uint8Array(await readFile(file));
  assert.match(r.stderr, new RegExp(`wrote .* to ${file.replace(/[.]/g, '\\.')}`));
  const trace = decodeTrace(bytes);
  const got = trace.slices.map((s) => `${trace.tracks.get(s.track)!.threadName ?? 'async'}|${s.name}|${s.begin}|${s.end}`).sort();
  const want = fx.expected.map((s) => `${s.track}|${s.name}|${s.begin}|${s.end}`).sort();
  assert.deepEqual(got, want);
  assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.partial')), [], 'no temporary file left');
});

test('a bad process id or an unknown process: the server says why, exit 1, no file', async () => {
  const file = join(dir, 'bad.pftrace');
  const bad = await sirius(['perfetto', 'not-a-uuid', ...RANGE, '-o', file, '--url', server.url]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /sirius perfetto: "not-a-uuid" is not a process id .*\(HTTP 400\)/);
  const unknown = await sirius(['perfetto', crypto.randomUUID(), ...RANGE, '-o', file, '--url', server.url]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no process .*\(HTTP 404\)/);
  assert.ok(!existsSync(file) && !existsSync(`${file}.partial`));
});

test('an unreachable server and a bad time: clear messages', async () => {
  // a port nobody listens on: bound, then closed
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const down = await sirius(['perfetto', fx.process.process_id, '-o', join(dir, 'x.pftrace'), '--url', `http://127.0.0.1:${port}`]);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /cannot reach the Sirius server at http:\/\/127\.0\.0\.1:\d+/);
  const badTime = await sirius(['perfetto', fx.process.process_id, '--begin', 'last tuesday', '--url', server.url]);
  assert.equal(badTime.code, 2);
  assert.match(badTime.stderr, /last tuesday/);
});

test('sirius perfetto --help tells the flags, and sirius --help lists the command', async () => {
  const r = await sirius(['perfetto', '--help']);
  assert.equal(r.code, 0);
  for (const flag of ['--begin', '--end', '--output', '--url', '--api-key', '--progress']) assert.ok(r.stdout.includes(flag), flag);
  const top = await sirius(['--help']);
  assert.match(top.stdout, /perfetto/);
});
