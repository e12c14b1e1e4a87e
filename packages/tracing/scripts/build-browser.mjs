#!/usr/bin/env node
// Builds the browser SDK from src/browser.ts, with every `platform/node/X.js` import replaced by
// `platform/browser/X.ts`, as two single-file ES modules:
//   dist/browser/tracing.js          what `sirius serve` serves at /sdk/tracing.js: its sender Web Worker is
//                                    a Blob URL whose one line imports the SDK itself by URL (no second copy)
//   dist/browser/tracing.bundler.js  the package's `browser` export, for apps built with a bundler (which
//                                    inlines the SDK into the app's chunk, so it cannot import itself): the
//                                    worker (platform/browser/sender-worker-entry.ts) bundled in as a string
// Prints their sizes, minified and gzipped.
//
//   node packages/tracing/scripts/build-browser.mjs              build
//   node packages/tracing/scripts/build-browser.mjs --if-stale   only when a source is newer than the bundle
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const pkgDir = new URL('..', import.meta.url).pathname;
const SRC = join(pkgDir, 'src');
export const SDK_FILE = join(pkgDir, 'dist/browser/tracing.js');
const BUNDLER_FILE = join(pkgDir, 'dist/browser/tracing.bundler.js');
const args = process.argv.slice(2);
const unknown = args.filter((a) => !['--if-stale', '--quiet'].includes(a));
if (unknown.length > 0) {
  console.error(`build-browser: unknown option ${unknown.join(' ')}\nusage: node packages/tracing/scripts/build-browser.mjs [--if-stale] [--quiet]`);
  process.exit(2);
}
const quiet = args.includes('--quiet');
const version = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).version;

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

const inputs = [SRC, join(pkgDir, 'package.json'), join(pkgDir, '../transit/src'), new URL(import.meta.url).pathname];
const built = Math.min(...[SDK_FILE, BUNDLER_FILE].map((f) => (existsSync(f) ? statSync(f).mtimeMs : 0)));
if (args.includes('--if-stale') && inputs.every((p) => newest(p) <= built)) process.exit(0);

/** `platform/node/X.js` → `platform/browser/X.ts`; a Node built-in reached from the bundle is an error */
const browserPlatform = {
  name: 'sirius-browser-platform',
  setup(b) {
    b.onResolve({ filter: /platform\/node\/[\w-]+\.js$/ }, (a) => {
      const name = /platform\/node\/([\w-]+)\.js$/.exec(a.path)[1];
      const path = join(SRC, 'platform/browser', `${name}.ts`);
      if (!existsSync(path)) return { errors: [{ text: `no browser version of platform/node/${name} (imported by ${a.importer}): add src/platform/browser/${name}.ts` }] };
      return { path };
    });
    b.onResolve({ filter: /^(node:|lz4-napi$)/ }, (a) => ({ errors: [{ text: `${a.path} cannot be bundled for browsers (imported by ${a.importer})` }] }));
  },
};

const common = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  conditions: ['sirius-source'],
  plugins: [browserPlatform],
  write: false,
  logLevel: 'warning',
  legalComments: 'none',
};

const banner = { js: `/* @sirius/tracing ${version} browser SDK */` };
const worker = await build({ ...common, entryPoints: [join(SRC, 'platform/browser/sender-worker-entry.ts')] });
const workerCode = worker.outputFiles[0].text;
const outputs = [
  [SDK_FILE, await build({ ...common, entryPoints: [join(SRC, 'browser.ts')], define: { __SIRIUS_SENDER_WORKER__: 'undefined' }, banner })],
  [BUNDLER_FILE, await build({ ...common, entryPoints: [join(SRC, 'browser.ts')], define: { __SIRIUS_SENDER_WORKER__: JSON.stringify(workerCode) }, banner })],
];
mkdirSync(dirname(SDK_FILE), { recursive: true });
for (const [file, result] of outputs) {
  const code = result.outputFiles[0].contents;
  writeFileSync(file, code);
  if (!quiet) {
    const kb = (n) => `${(n / 1024).toFixed(1)} kB`;
    console.log(`build-browser: ${file}: ${kb(code.length)} minified, ${kb(gzipSync(code, { level: 9 }).length)} gzipped`);
  }
}
