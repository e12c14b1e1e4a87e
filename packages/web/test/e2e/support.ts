/**
 * End-to-end support: build the web app when its dist is stale, start a real Sirius server, feed it with
 * the scripted instrumented run, launch headless Chromium, collect console errors, save screenshots.
 */
import { spawnSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer } from '@sirius/server';
import { EXPECTED, SCRIPT } from './scripted-run.js';

export const WEB_DIR = fileURLToPath(new URL('../..', import.meta.url));
export const ROOT = fileURLToPath(new URL('../../../..', import.meta.url));
export const SHOTS = join(ROOT, 'test-output', 'screenshots');

function newestMtime(dir: string): number {
  let m = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    m = Math.max(m, s.isDirectory() ? newestMtime(p) : s.mtimeMs);
  }
  return m;
}

function isStale(): boolean {
  const index = join(WEB_DIR, 'dist', 'index.html');
  const srcTime = Math.max(newestMtime(join(WEB_DIR, 'src')), statSync(join(WEB_DIR, 'index.html')).mtimeMs, statSync(join(WEB_DIR, 'vite.config.ts')).mtimeMs);
  return !existsSync(index) || statSync(index).mtimeMs < srcTime;
}

/**
 * Builds packages/web into dist/ unless dist is newer than every source file. Test files run concurrently,
 * so one builds while the others wait on a lock file (a lock older than 3 minutes is taken as abandoned).
 */
export function ensureBuilt(): void {
  if (!isStale()) return;
  const lock = join(WEB_DIR, 'dist.build-lock');
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch {
      if (!existsSync(lock)) continue;
      if (Date.now() - statSync(lock).mtimeMs > 180_000) rmSync(lock, { force: true });
      else if (Date.now() > deadline) throw new Error(`waited 3 minutes for ${lock}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    if (!isStale()) return;
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], { cwd: WEB_DIR, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('vite build failed');
  } finally {
    rmSync(lock, { force: true });
  }
}

export const CHROMIUM = '/usr/bin/chromium';

/** The end-to-end tests need Debian's Chromium; without it they are skipped with this reason (CI installs it). */
export const BROWSER_SKIP: string | false = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is not installed: skipping the browser end-to-end tests (apt-get install -y chromium; .ci/run does)`;

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** A page that records console errors and page errors into `errors`. */
export async function newPage(browser: Browser, errors: string[], viewport = { width: 1280, height: 800 }): Promise<Page> {
  const ctx = await browser.newContext({ viewport });
  const page = await ctx.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
  return page;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SHOTS, { recursive: true });
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** A temp data dir, removed by the returned function. */
export async function tempDir(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'sirius-web-e2e-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Runs an instrumented program of this folder (default: the scripted run) against `url`; rejects if it fails. */
export function runScript(url: string, env: Record<string, string> = {}, script = 'scripted-run.ts'): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(WEB_DIR, 'test', 'e2e', script)], {
      cwd: ROOT, env: { ...process.env, ...env, SIRIUS_TELEMETRY_URL: url }, stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${script} exited with ${code}`))));
  });
}

/** The scripted program in tail mode: `more()` makes it log TAIL_LINES more lines; `stop()` ends it. */
export async function startTailScript(url: string, exe: string): Promise<{ more(): Promise<void>; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(WEB_DIR, 'test', 'e2e', 'scripted-run.ts')], {
    cwd: ROOT, env: { ...process.env, SIRIUS_TELEMETRY_URL: url, SIRIUS_E2E_EXE: exe, SIRIUS_E2E_TAIL: '1' }, stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  const waitFor = async (word: string, count: number) => {
    await until(`the tail script to say "${word}"`, async () => (lines.filter((l) => l === word).length >= count ? true : undefined), 30_000);
  };
  await waitFor('ready', 1);
  let sent = 0;
  return {
    async more() {
      child.stdin!.write('more\n');
      await waitFor('sent', ++sent);
    },
    async stop() {
      child.stdin!.end();
      const code = await exited;
      if (code !== 0) throw new Error(`tail script exited with ${code}`);
    },
  };
}

/** POSTs a query and returns JSON rows (the tests' own view of the data, independent of the UI). */
export async function sql(url: string, text: string, begin = '1h'): Promise<Record<string, unknown>[]> {
  const res = await fetch(`${url}/api/query`, {
    method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ sql: text, begin, end: 'now' }),
  });
  const body = (await res.json()) as { rows?: Record<string, unknown>[]; error?: string };
  if (!res.ok) throw new Error(`query failed (${res.status}): ${body.error}`);
  return body.rows ?? [];
}

/** Polls `probe` until it returns a value (not undefined) or the deadline passes. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface FedServer {
  url: string;
  /** the scripted run's process id */
  pid: string;
  /** first and last event times of the scripted run, epoch ms */
  runBegin: number;
  runEnd: number;
  close(): Promise<void>;
}

type StartServer = (o: { httpPort: number; dataDir: string; quiet: boolean }) => Promise<{ url: string; close(): Promise<void> }>;

/**
 * Starts a server with every role, runs the scripted program against it and waits until its logs, metrics
 * and log statistics are queryable.
 */
export async function startFedServer(startServer: StartServer, expected: { logs: number; measures: number; exe: string }): Promise<FedServer> {
  const data = await tempDir();
  const server = await startServer({ httpPort: 0, dataDir: data.dir, quiet: true });
  const close = async () => {
    await server.close();
    await data.remove();
  };
  try {
    const probe = await fetch(`${server.url}/api/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"sql":"SELECT 1","begin":"1h"}' });
    if (probe.status === 404) {
      await close();
      throw new Error('the server has no analytics role (POST /api/query answers 404): the end-to-end web tests need it');
    }
    await runScript(server.url);
    const exe = expected.exe.replace(/'/g, "''");
    const pid = await until('the scripted process', async () => {
      const rows = await sql(server.url, `SELECT process_id FROM processes WHERE exe LIKE '%${exe}%'`);
      return rows[0] ? String(rows[0].process_id) : undefined;
    });
    const count = (q: string, n: number) => async () => {
      const [r] = await sql(server.url, q);
      return Number(r?.n) === n ? true : undefined;
    };
    await until(`${expected.logs} log lines`, count(`SELECT count(*) AS n FROM log_entries WHERE process_id = '${pid}'`, expected.logs), 45_000);
    await until(`${expected.measures} measures`, count(`SELECT count(*) AS n FROM measures WHERE process_id = '${pid}'`, expected.measures), 45_000);
    await until('log_stats', count(`SELECT sum(count) AS n FROM log_stats WHERE process_id = '${pid}'`, expected.logs), 45_000);
    const [b] = await sql(server.url, `SELECT epoch_ms(min(time)) AS b, epoch_ms(max(time)) AS e FROM measures WHERE process_id = '${pid}'`);
    return { url: server.url, pid, runBegin: Number(b!.b), runEnd: Number(b!.e), close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Removes the one console error the browser logs for an expected failed request (e.g. a query answered 400). */
export function takeExpectedError(errors: string[], pattern: RegExp): boolean {
  const i = errors.findIndex((e) => pattern.test(e));
  if (i < 0) return false;
  errors.splice(i, 1);
  return true;
}

/**
 * One fed server and one browser for a test file: registers the file's before/after hooks and returns
 * accessors. `errors` collects every page's console errors for the file's last check.
 */
export function useFedApp(): {
  readonly fed: FedServer;
  readonly pid: string;
  readonly errors: string[];
  open(path: string, viewport?: { width: number; height: number }): Promise<Page>;
} {
  let fed: FedServer | undefined;
  let browser: Browser | undefined;
  const errors: string[] = [];
  before(async () => {
    ensureBuilt();
    fed = await startFedServer(startServer, { logs: EXPECTED.logs, measures: EXPECTED.measures, exe: SCRIPT.exe });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await fed?.close();
  });
  return {
    get fed() {
      return fed!;
    },
    get pid() {
      return fed!.pid;
    },
    errors,
    async open(path, viewport) {
      const page = await newPage(browser!, errors, viewport);
      await page.goto(`${fed!.url}${path}`);
      return page;
    },
  };
}

/**
 * One server fed by one small instrumented program of this folder (`script`, whose process is named `exe`) and
 * one browser, for a test file: registers its before/after hooks and returns accessors.
 */
export function useScriptedServer(script: string, exe: string): {
  readonly url: string;
  readonly pid: string;
  readonly errors: string[];
  open(path: string): Promise<Page>;
} {
  let server: { url: string; close(): Promise<void> } | undefined;
  let data: Awaited<ReturnType<typeof tempDir>> | undefined;
  let browser: Browser | undefined;
  let pid = '';
  const errors: string[] = [];
  before(async () => {
    ensureBuilt();
    data = await tempDir();
    server = await startServer({ httpPort: 0, dataDir: data.dir, quiet: true });
    await runScript(server.url, {}, script);
    const rows = await until(`the process of ${script}`, async () => {
      const r = await sql(server!.url, `SELECT process_id FROM processes WHERE exe = '${exe}'`);
      return r.length === 1 ? r : undefined;
    });
    pid = String(rows[0]!.process_id);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await data?.remove();
  });
  return {
    get url() {
      return server!.url;
    },
    get pid() {
      return pid;
    },
    errors,
    async open(path) {
      const page = await newPage(browser!, errors);
      await page.goto(`${server!.url}${path}`);
      return page;
    },
  };
}
