/**
 * The package's `browser` export condition: a bundler resolving `@sirius/tracing` for browsers gets the
 * bundlers' build of the SDK (never the Node entry, which would pull in node: modules), and Node gets the
 * Node entry as before.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { build } from 'esbuild';
import { buildSdkIfStale } from './support.js';

test('bundling `@sirius/tracing` for browsers takes dist/browser/tracing.bundler.js', async () => {
  buildSdkIfStale();
  const r = await build({
    stdin: { contents: "import { init, trackAnimationFrames } from '@sirius/tracing'; init(); trackAnimationFrames();", resolveDir: process.cwd() },
    bundle: true, platform: 'browser', format: 'esm', write: false, metafile: true, logLevel: 'silent',
  });
  const inputs = Object.keys(r.metafile.inputs);
  assert.ok(inputs.some((i) => i.endsWith('packages/tracing/dist/browser/tracing.bundler.js')), inputs.join('\n'));
  assert.ok(!inputs.some((i) => /platform\/node|lz4-napi/.test(i)), inputs.join('\n'));
});
