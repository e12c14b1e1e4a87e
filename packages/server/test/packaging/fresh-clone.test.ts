/**
 * The README's quick start on a fresh clone: the repository's tracked files (as they are in the working tree)
 * copied to an empty folder, `npm ci` and nothing else, then `npm start` serves the built web app, `npm run
 * demo` sends to it, and in Chromium the demo's process is on the Processes page, which also loads directly
 * at /processes. `npm test`'s first steps (the type check, then a test file) run there too. Slow: a real
 * `npm ci` and build.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { freePort } from '../support/free-port.js';
import { ROOT, get, run, start, userEnv, waitFor, type Running } from './support.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

const listed = spawnSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' });
const NOT_A_CHECKOUT = listed.status === 0 ? false : `not a git checkout (git ls-files: ${listed.stderr || listed.error?.message}): nothing to clone from`;

let clone: string;
let server: Running | undefined;
let browser: Browser | undefined;

before(() => {
  clone = mkdtempSync(join(tmpdir(), 'sirius-clone-'));
});
after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(clone, { recursive: true, force: true });
});

test('npm ci && npm start on a fresh clone serves the web app; the demo shows up in it', { skip: NOT_A_CHECKOUT, timeout: 30 * 60_000 }, async (t) => {
  // tracked files with their uncommitted edits; a tracked file deleted in the working tree stays deleted
  for (const f of listed.stdout.split('\0').filter(Boolean)) {
    const from = join(ROOT, f);
    if (!existsSync(from) && !isLink(from)) continue;
    mkdirSync(dirname(join(clone, f)), { recursive: true });
    cpSync(from, join(clone, f), { preserveTimestamps: false, verbatimSymlinks: true });
  }

  // --prefer-offline only spares the registry round trips for what npm's cache already holds
  const ci = await run('npm', ['ci', '--prefer-offline'], { cwd: clone, timeoutMs: 20 * 60_000 });
  t.diagnostic(`npm ci (install + build): ${ci.seconds.toFixed(1)} s`);
  for (const line of ci.out.split('\n').filter((l) => /^build: .*: [\d.]+ s$/.test(l))) t.diagnostic(line);
  assert.ok(existsSync(join(clone, 'packages/web/dist/index.html')), 'npm ci did not build the web app');

  const [http, flight, pg] = [await freePort(), await freePort(), await freePort()];
  const url = `http://127.0.0.1:${http}`;
  server = start('npm', ['start', '--', '--http-port', String(http), '--flight-port', String(flight), '--pg-port', String(pg)], { cwd: clone });
  await waitFor('npm start to serve', async () => ((await get(`${url}/health`))?.status === 200 ? true : undefined), 300_000, server.output);
  for (const path of ['/', '/processes']) {
    const r = await get(url + path);
    assert.equal(r?.status, 200, path);
    assert.match(r!.body, /<script type="module"[^>]*src="\/assets\//, `${path} is not the built app`);
  }

  const demo = await run('npm', ['run', 'demo', '--', '--seconds', '3'], { cwd: clone, env: userEnv({ SIRIUS_TELEMETRY_URL: url }), timeoutMs: 300_000 });
  assert.match(demo.out, /\[demo\] sent \d+ frames/);

  if (!existsSync(CHROMIUM)) {
    t.diagnostic(`${CHROMIUM} is not installed: the browser part is skipped (apt-get install -y chromium; .ci/run does)`);
  } else {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // the app's own navigation: the start page, then its link to the Processes page
    await page.goto(`${url}/`);
    await page.getByRole('link', { name: 'Processes', exact: true }).first().click();
    await page.waitForURL(/\/processes/);
    await page.locator('[data-testid=process-table]').getByText('game-loop').first().waitFor({ timeout: 180_000 });
    // and the route loaded directly, as a bookmark or a reload does
    const direct = await page.goto(`${url}/processes`);
    assert.equal(direct?.status(), 200);
    await page.locator('[data-testid=process-table]').getByText('game-loop').first().waitFor({ timeout: 180_000 });
    assert.deepEqual(errors, []);
  }
  await server.stop();
  server = undefined;

  // `npm test`'s first steps: the type check, then the runner on one test file
  const typecheck = await run('npm', ['run', 'typecheck'], { cwd: clone, timeoutMs: 10 * 60_000 });
  t.diagnostic(`npm run typecheck: ${typecheck.seconds.toFixed(1)} s`);
  const one = await run('npm', ['test', '--', 'web-static.test'], { cwd: clone, timeoutMs: 10 * 60_000 });
  assert.match(one.out, /ℹ pass [1-9]/);
  assert.match(one.out, /ℹ fail 0/);
});

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
