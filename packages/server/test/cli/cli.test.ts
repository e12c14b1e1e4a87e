import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lockPgliteDir } from '../../src/lake/pglite-dir-lock.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const main = join(root, 'packages/server/src/cli/main.ts');
const sirius = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { cwd: root, encoding: 'utf8' });

test('sirius --help lists the commands', () => {
  const r = sirius('--help');
  assert.equal(r.status, 0);
  assert.match(r.stdout, /Usage: sirius <command>/);
  assert.match(r.stdout, /serve/);
});

test('sirius serve --help lists every flag and environment variable', () => {
  const r = sirius('serve', '--help');
  assert.equal(r.status, 0);
  // every flag the command parses, read from its source so that a new flag without help fails here
  const source = readFileSync(join(root, 'packages/server/src/cli/serve-command.ts'), 'utf8');
  const options = /const OPTIONS = \{([\s\S]*?)\} as const;/.exec(source)![1]!;
  const flags = [...options.matchAll(/^\s*'?([a-z-]+)'?: \{/gm)].map((m) => `--${m[1]}`);
  assert.ok(flags.length >= 16, `flags found: ${flags.join(' ')}`);
  for (const flag of flags) assert.ok(r.stdout.includes(flag), `missing ${flag}`);
  // every environment variable the server's code reads (the client commands' SIRIUS_URL and SIRIUS_API_KEY, read in cli/server-client.ts, are in `sirius query`'s and `sirius perfetto`'s help)
  const src = join(root, 'packages/server/src');
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !/((query|perfetto)-command|server-client)\.ts$/.test(f));
  const read = files.map((f) => readFileSync(join(src, f), 'utf8')).join('\n');
  const vars = new Set([...read.matchAll(/\benv(?:\.|\[')([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!));
  // …and the names the configuration and the command pass around as strings
  for (const f of ['config.ts', 'cli/serve-command.ts']) {
    for (const m of readFileSync(join(src, f), 'utf8').matchAll(/'(SIRIUS_[A-Z0-9_]+)'/g)) vars.add(m[1]!);
  }
  assert.ok(vars.has('SIRIUS_RETENTION') && vars.has('AWS_ENDPOINT_URL'), [...vars].join(' '));
  for (const env of vars) assert.ok(r.stdout.includes(env), `missing ${env}`);
});

test('a data dir another process holds: the message names the problem and the way out, no stack trace', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sirius-cli-lock-'));
  await mkdir(join(dir, 'pglite'));
  const release = lockPgliteDir(join(dir, 'pglite'));
  try {
    const r = sirius('admin', 'list-partitions', '--data-dir', dir);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`^sirius: the embedded database in .* is in use by process ${process.pid} .*SIRIUS_SQL_CONNECTION_STRING\\n$`));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  } finally {
    release();
    await rm(dir, { recursive: true, force: true });
  }
});

test('an unknown flag exits 2 with a message naming it', () => {
  const r = sirius('serve', '--no-such-flag');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--no-such-flag/);
  assert.match(r.stderr, /sirius serve --help/);
});

test('an unknown command or bad values exit 2', () => {
  assert.equal(sirius('frobnicate').status, 2);
  assert.match(sirius('frobnicate').stderr, /unknown command "frobnicate"/);
  const badRole = sirius('serve', '--roles', 'ingestion,cooking');
  assert.equal(badRole.status, 2);
  assert.match(badRole.stderr, /unknown role "cooking"/);
  assert.equal(sirius('serve', '--retention', 'forever').status, 2);
  assert.equal(sirius('serve', '--http-port', 'ninety').status, 2);
  assert.equal(sirius('serve', '--max-block-bytes', 'lots').status, 2);
});

test('sirius serve starts, prints one line with the URL, backends and retention, and closes on SIGTERM', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sirius-cli-'));
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', main, 'serve', '--roles', 'ingestion,daemon', '--http-port', '0', '--data-dir', dir], {
      cwd: root,
      env: { ...process.env, SIRIUS_SQL_CONNECTION_STRING: '', SIRIUS_OBJECT_STORE_URI: '', SIRIUS_RETENTION: '', SIRIUS_SELF_TELEMETRY: '' },
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 120_000;
    let url: string | undefined;
    while (!url && Date.now() < deadline) {
      url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      if (!url) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(url, `no startup line in: ${out}`);
    assert.match(out, /PGlite in .*pglite/);
    assert.match(out, /objects: file:\/\//);
    assert.match(out, /retention: 90d/, 'on by default, and shown');
    assert.equal(out.trim().split('\n').length, 1, `one startup line, got: ${out}`);
    assert.equal((await fetch(`${url}/health`)).status, 200);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(out, /closed/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
