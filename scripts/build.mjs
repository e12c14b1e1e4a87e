#!/usr/bin/env node
// Builds what runs outside tsx: every package to JavaScript in its dist/ (`tsc -b`, incremental), the server's
// non-TypeScript files (.proto) next to its JS, and the web app with Vite, copied into the server's dist/web so
// an installed @sirius/server serves it. `npm ci` runs this through the root `prepare` script.
//
//   node scripts/build.mjs                     everything (`npm run build`)
//   node scripts/build.mjs --web --if-stale    only the web app and the browser SDK, and only when their sources are newer than their build
//                                              (`npm start` and `npm test`: cheap when nothing changed)
//   --keep-going                               a failed step warns and the rest goes on, exit code 0 (`prepare`:
//                                              an `npm install` in a tree with a type error still installs;
//                                              in-repo commands run from source and do not need dist/)
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const unknown = args.filter((a) => !['--web', '--if-stale', '--quiet', '--keep-going'].includes(a));
if (unknown.length > 0) {
  console.error(`build: unknown option ${unknown.join(' ')}\nusage: node scripts/build.mjs [--web] [--if-stale] [--quiet] [--keep-going]`);
  process.exit(2);
}
const webOnly = args.includes('--web');
const ifStale = args.includes('--if-stale');
const quiet = args.includes('--quiet');
const keepGoing = args.includes('--keep-going');
const say = (m) => quiet || console.log(`build: ${m}`);

const WEB = join(root, 'packages/web');
const WEB_DIST = join(WEB, 'dist');
const SERVER = join(root, 'packages/server');
/** what the web bundle is made of: a change to any of these makes packages/web/dist stale */
const WEB_INPUTS = [
  join(WEB, 'src'), join(WEB, 'index.html'), join(WEB, 'public'), join(WEB, 'vite.config.ts'), join(WEB, 'package.json'),
  join(root, 'packages/client/src'), join(root, 'packages/client/package.json'),
];

/** the file behind a dependency's command (its package.json `bin`), run with this node: no npx, no shell */
function binOf(pkg, name) {
  const dir = join(root, 'node_modules', pkg);
  const { bin } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  return join(dir, typeof bin === 'string' ? bin : bin[name]);
}

function run(what, cmd, cmdArgs, cwd = root) {
  say(what);
  const started = performance.now();
  const r = spawnSync(cmd, cmdArgs, { cwd, stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit' });
  if (r.status !== 0) {
    console.error(`build: ${what} failed (${r.error?.message ?? `exit code ${r.status}`})`);
    if (!keepGoing) process.exit(r.status || 1);
    console.error('build: going on (--keep-going); `npm run build` repeats the failure');
    return false;
  }
  say(`${what}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return true;
}

/** newest modification time under `path` (0 when absent) */
function newest(path) {
  let s;
  try {
    s = statSync(path);
  } catch {
    return 0;
  }
  if (!s.isDirectory()) return s.mtimeMs;
  let m = s.mtimeMs;
  for (const name of readdirSync(path)) m = Math.max(m, newest(join(path, name)));
  return m;
}

function webIsStale() {
  const built = newest(join(WEB_DIST, 'index.html'));
  return built === 0 || WEB_INPUTS.some((p) => newest(p) > built);
}

function buildWeb() {
  if (ifStale && !webIsStale()) return false;
  run('web app (vite build)', process.execPath, [binOf('vite', 'vite'), 'build', '--logLevel', quiet ? 'error' : 'warn'], WEB);
  return true;
}

/** the server reads .proto files next to its modules: copy every non-TypeScript file of src/ into dist/ */
function copyServerAssets(dir = join(SERVER, 'src')) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) copyServerAssets(path);
    else if (!name.endsWith('.ts')) {
      const to = join(SERVER, 'dist', relative(join(SERVER, 'src'), path));
      mkdirSync(dirname(to), { recursive: true });
      cpSync(path, to);
    }
  }
}

/** an installed @sirius/server has no packages/web next to it: it serves this copy (see web-static.ts) */
function bundleWebIntoServer() {
  const to = join(SERVER, 'dist/web');
  rmSync(to, { recursive: true, force: true });
  if (existsSync(join(WEB_DIST, 'index.html'))) cpSync(WEB_DIST, to, { recursive: true });
}

/** the browser SDK that `sirius serve` serves at /sdk/tracing.js (its script checks staleness itself) */
function buildSdk() {
  const flags = [...(ifStale ? ['--if-stale'] : []), ...(quiet ? ['--quiet'] : [])];
  run('browser SDK (esbuild)', process.execPath, [join(root, 'packages/tracing/scripts/build-browser.mjs'), ...flags]);
}

if (webOnly) {
  buildWeb();
  buildSdk();
} else {
  run('packages (tsc -b tsconfig.build.json)', process.execPath, [binOf('typescript', 'tsc'), '-b', 'tsconfig.build.json']);
  copyServerAssets();
  buildWeb();
  buildSdk();
  bundleWebIntoServer();
}
