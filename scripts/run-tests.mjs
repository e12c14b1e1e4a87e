#!/usr/bin/env node
// Runs every *.test.ts under packages/, examples/ and bench/ with Node's built-in runner (TypeScript via tsx).
// Node 20's `--test` takes no globs, so the files are listed here. Extra arguments filter by substring.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
// Every process the tests start (test files, servers and children they spawn with `--import tsx`) imports
// @sirius/* from TypeScript source through this export condition, never from a stale dist/.
process.env.NODE_OPTIONS = `--conditions=sirius-source ${process.env.NODE_OPTIONS ?? ''}`.trim();
const filters = process.argv.slice(2);
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.test.ts') && !path.includes('/web/src/')) files.push(relative(root, path));
  }
}
for (const top of ['packages', 'examples', 'bench']) walk(join(root, top));
const selected = files.filter((f) => filters.length === 0 || filters.some((s) => f.includes(s))).sort();
if (selected.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
// The whole suite starts with the type check: tsx strips types without checking them, so a type error in a test
// or in code no test reaches would otherwise pass.
if (filters.length === 0) {
  console.log('type-checking (tsc -p tsconfig.json --noEmit)…');
  const t = spawnSync('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit'], { cwd: root, stdio: 'inherit' });
  if (t.status !== 0) process.exit(t.status ?? 1);
}
// The web app's end-to-end tests need its static build: rebuilt here, once, when its sources changed.
if (selected.some((f) => f.startsWith('packages/web/'))) {
  const b = spawnSync(process.execPath, ['scripts/build.mjs', '--web', '--if-stale'], { cwd: root, stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...selected],
  { cwd: root, stdio: 'inherit' },
);
process.exit(r.status ?? 1);
