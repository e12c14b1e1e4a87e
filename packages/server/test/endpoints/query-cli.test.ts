/**
 * `sirius query` end to end: the real CLI in a child process against a real server, in every format,
 * plus a failing query (message, caret, non-zero exit) and a usage error (exit 2).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tableFromIPC } from 'apache-arrow';
import { startQueryServer, type QueryServer } from './query-server.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const RANGE = ['--begin', '2024-05-01T00:00:00Z', '--end', '2024-05-01T01:00:00Z'];

function sirius(args: string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: err }));
  });
}

describe('sirius query', () => {
  let s: QueryServer;
  before(async () => {
    s = await startQueryServer();
  });
  after(async () => s?.close());
  const SQL = `SELECT level, count(*) AS n, min(time) AS first, 9007199254740993::BIGINT AS big FROM log_entries WHERE level <= 2 GROUP BY level ORDER BY level`;

  test('--format json prints an array of row objects with big integers as strings', async () => {
    const r = await sirius(['query', SQL, ...RANGE, '--format', 'json', '--url', s.url]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.toString()), [
      { level: 1, n: 2, first: '2024-05-01T00:00:00.000000123Z', big: '9007199254740993' },
      { level: 2, n: 2, first: '2024-05-01T00:00:01.000000123Z', big: '9007199254740993' },
    ]);
  });

  test('--format csv and table', async () => {
    const csv = await sirius(['query', SQL, ...RANGE, '--format', 'csv', '--url', s.url]);
    assert.equal(csv.code, 0, csv.stderr);
    assert.equal(csv.stdout.toString(), [
      'level,n,first,big',
      '1,2,2024-05-01T00:00:00.000000123Z,9007199254740993',
      '2,2,2024-05-01T00:00:01.000000123Z,9007199254740993',
      '',
    ].join('\n'));
    const table = await sirius(['query', SQL, ...RANGE, '--url', s.url]);
    assert.equal(table.code, 0, table.stderr);
    assert.equal(table.stdout.toString(), [
      `level  n  ${'first'.padEnd(30)}  ${'big'.padStart(16)}`, // numeric columns are right-aligned, header too
      '-----  -  ------------------------------  ----------------',
      '    1  2  2024-05-01T00:00:00.000000123Z  9007199254740993',
      '    2  2  2024-05-01T00:00:01.000000123Z  9007199254740993',
      '(2 rows)',
      '',
    ].join('\n'));
  });

  test('--format arrow writes an IPC stream to stdout', async () => {
    const r = await sirius(['query', SQL, ...RANGE, '--format', 'arrow', '--url', s.url]);
    assert.equal(r.code, 0, r.stderr);
    const t = tableFromIPC(new Uint8Array(r.stdout));
    assert.deepEqual(t.getChild('level')!.toArray(), Int32Array.from([1, 2]));
    assert.equal(t.getChild('big')!.get(0), 9007199254740993n);
  });

  test('a failing query prints the message and a caret, and exits 1; a usage mistake exits 2', async () => {
    const r = await sirius(['query', 'SELECT lvl FROM log_entries', ...RANGE, '--url', s.url]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Referenced column "lvl" not found/);
    assert.match(r.stderr, /\n {2}SELECT lvl FROM log_entries\n {9}\^\n/);
    const u = await sirius(['query', 'SELECT 1', '--format', 'xml', '--url', s.url]);
    assert.equal(u.code, 2);
    assert.match(u.stderr, /unknown format "xml"/);
    const down = await sirius(['query', 'SELECT 1', '--url', 'http://127.0.0.1:1']);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach the Sirius server/);
  });
});
