/**
 * The published shape of the packages: `npm pack` of transit, tracing, client and server (their `prepack`
 * builds them), the four tarballs installed into an empty folder (other dependencies from the npm registry),
 * then, with plain node and no tsx: the installed `sirius` bin answers `--help` and serves (web app included),
 * a script sends with @sirius/tracing and reads back with @sirius/client, and a TypeScript file using both
 * type-checks against the shipped declarations. Slow: a real `npm install` of the server's dependencies.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/free-port.js';
import { ROOT, get, run, start, userEnv, waitFor, type Running } from './support.js';

const PACKAGES = ['@sirius/transit', '@sirius/tracing', '@sirius/client', '@sirius/server'];
const EXE = `packaged-${process.pid}`;

let dir: string;
let app: string;
let server: Running | undefined;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sirius-pack-'));
  app = join(dir, 'app');
  mkdirSync(app);
});
after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the packed packages install into an empty folder and work with plain node', { timeout: 20 * 60_000 }, async (t) => {
  const packs = join(dir, 'packs');
  mkdirSync(packs);
  const packed = await run('npm', ['pack', '--silent', ...PACKAGES.flatMap((p) => ['-w', p]), '--pack-destination', packs], { cwd: ROOT, timeoutMs: 10 * 60_000 });
  const tarballs = readdirSync(packs).filter((f) => f.endsWith('.tgz')).sort();
  assert.deepEqual(tarballs, ['sirius-client-0.1.0.tgz', 'sirius-server-0.1.0.tgz', 'sirius-tracing-0.1.0.tgz', 'sirius-transit-0.1.0.tgz']);
  t.diagnostic(`npm pack (with the builds prepack runs): ${packed.seconds.toFixed(1)} s`);

  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'packaged-app', private: true, type: 'module' }));
  const installed = await run('npm', ['install', '--prefer-offline', ...tarballs.map((f) => join(packs, f))], { cwd: app, timeoutMs: 15 * 60_000 });
  t.diagnostic(`npm install of the four tarballs: ${installed.seconds.toFixed(1)} s`);
  // the packages must run on what they declare: no TypeScript runtime among what they pulled in
  assert.equal(existsSync(join(app, 'node_modules/tsx')), false, 'tsx got installed: a package depends on it');
  for (const p of PACKAGES) assert.ok(existsSync(join(app, 'node_modules', p, 'dist/index.js')), `${p} has no dist/index.js`);

  const bin = join(app, 'node_modules/.bin/sirius');
  const help = await run(bin, ['--help'], { cwd: app, timeoutMs: 120_000 });
  assert.match(help.out, /Usage: sirius <command>/);

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  server = start(bin, ['serve', '--http-port', String(port), '--flight-port', 'off', '--pg-port', 'off', '--data-dir', join(dir, 'data')], { cwd: app });
  await waitFor('the installed server', async () => ((await get(`${url}/health`))?.status === 200 ? true : undefined), 180_000, server.output);
  // the web app ships inside @sirius/server: a client-side route gets the built app, not the "not built" page
  const page = await get(`${url}/processes`);
  assert.equal(page?.status, 200);
  assert.match(page!.body, /<script type="module"[^>]*src="\/assets\//);

  const script = `
    import { init, info, span, fmetric, shutdown } from '@sirius/tracing';
    import { connect } from '@sirius/client';
    const [url, exe] = process.argv.slice(2);
    init({ exe, url });
    info('hello from a packaged install', { target: 'packaging' });
    span('frame', () => fmetric('frame_time', 'ms', 3));
    if (!(await shutdown({ timeoutMs: 60_000 }))) throw new Error('tracing did not flush');
    const client = connect(url);
    for (const deadline = Date.now() + 120_000; Date.now() < deadline; ) {
      const t = await client.query("SELECT msg FROM log_entries WHERE exe = '" + exe + "'", '1h', 'now');
      if (t.numRows > 0) { console.log(JSON.stringify({ msg: String(t.getChild('msg').get(0)) })); process.exit(0); }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error('the log line never became queryable');
  `;
  writeFileSync(join(app, 'use.mjs'), script);
  const used = await run(process.execPath, ['use.mjs', url, EXE], { cwd: app, timeoutMs: 240_000 });
  assert.deepEqual(JSON.parse(used.out.trim().split('\n').at(-1)!), { msg: 'hello from a packaged install' });

  // the shipped declarations: a TypeScript user gets types for both libraries
  writeFileSync(join(app, 'typed.ts'), `
    import { init, info } from '@sirius/tracing';
    import { connect, type SiriusClient } from '@sirius/client';
    init({ exe: 'typed' });
    info('typed');
    const c: SiriusClient = connect('http://127.0.0.1:9000');
    const n: number = (await c.query('SELECT 1', '1h')).numRows;
    export { n };
  `);
  await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '--strict', '--skipLibCheck', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules/@types'), 'typed.ts'], {
    cwd: app,
    env: userEnv(),
    timeoutMs: 180_000,
  });
});
