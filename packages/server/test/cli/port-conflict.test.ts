/**
 * A port already taken, for each endpoint `sirius serve` listens on: one line naming the port, the process
 * holding it, the endpoint, and the flag and variable that move it; exit code 1; no stack trace, and no line
 * from gRPC.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from './serve-process.js';

function occupy(): Promise<{ port: number; server: Server }> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as { port: number }).port, server }));
  });
}

async function conflict(flagFor: (port: number) => string[], roles: string, expected: { what: RegExp; flag: string; env: string }) {
  const dir = await mkdtemp(join(tmpdir(), 'sirius-port-'));
  const held = await occupy();
  try {
    const s = serve(['--roles', roles, '--http-port', '0', '--flight-port', 'off', '--pg-port', 'off', ...flagFor(held.port), '--data-dir', dir]);
    const code = await s.exited;
    const out = s.output();
    assert.equal(code, 1, out);
    const lines = out.trim().split('\n');
    assert.equal(lines.length, 1, `one line, got: ${out}`);
    // the holder is this test process, found through /proc
    assert.match(lines[0]!, new RegExp(`^sirius: port ${held.port} on 127\\.0\\.0\\.1 is already in use by process ${process.pid} \\(`));
    assert.match(lines[0]!, expected.what);
    assert.ok(lines[0]!.includes(expected.flag) && lines[0]!.includes(expected.env), lines[0]);
    assert.doesNotMatch(out, /\n\s+at /, 'no stack trace');
  } finally {
    held.server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

test('HTTP port in use', { timeout: 240_000 }, () =>
  conflict((p) => ['--http-port', String(p)], 'ingestion', { what: /HTTP \(ingestion, query API, web app\)/, flag: '--http-port', env: 'SIRIUS_HTTP_PORT' }));

test('Arrow Flight SQL port in use', { timeout: 240_000 }, () =>
  conflict((p) => ['--flight-port', String(p)], 'analytics', { what: /Arrow Flight SQL/, flag: '--flight-port', env: 'SIRIUS_FLIGHT_PORT' }));

test('PostgreSQL gateway port in use', { timeout: 240_000 }, () =>
  conflict((p) => ['--pg-port', String(p)], 'analytics', { what: /PostgreSQL wire gateway/, flag: '--pg-port', env: 'SIRIUS_PG_PORT' }));
