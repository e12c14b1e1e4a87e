/**
 * The quick-start notebook, executed as a user would with Debian's `jupyter nbconvert --execute` against a
 * live `sirius serve` holding a known game-loop recording (test/support/demo-sender.ts): it must run
 * without an error, print the recording's numbers and draw its two plots.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_FACTS, startLiveDemo, type LiveDemo } from '../../packages/server/test/support/live-demo.js';

const JUPYTER = '/usr/bin/jupyter';
const NOTEBOOK = fileURLToPath(new URL('./quickstart.ipynb', import.meta.url));

interface Output {
  output_type: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}

const missing = existsSync(JUPYTER) ? undefined : `${JUPYTER} is not installed (Debian: apt-get install jupyter-nbconvert python3-ipykernel)`;
if (missing) console.log(`# skipping the notebook test: ${missing}`);

describe('examples/python/quickstart.ipynb', { skip: missing }, () => {
  let demo: LiveDemo;
  let dir: string;
  before(async () => {
    demo = await startLiveDemo();
    dir = await mkdtemp(join(tmpdir(), 'sirius-notebook-'));
  });
  after(async () => {
    await demo?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('runs start to end and shows the recording\'s frame times and error rates', async () => {
    await new Promise<void>((resolve, reject) => {
      execFile(JUPYTER, ['nbconvert', '--to', 'notebook', '--execute', NOTEBOOK, '--output-dir', dir, '--ExecutePreprocessor.timeout=600'], {
        env: { ...process.env, SIRIUS_PG_URL: `postgresql://sirius@127.0.0.1:${demo.pgPort}/sirius`, PYDEVD_DISABLE_FILE_VALIDATION: '1' },
        timeout: 900_000,
      }, (err, _stdout, stderr) => (err ? reject(new Error(`nbconvert failed: ${err.message}\n${stderr}`)) : resolve()));
    });
    const executed = JSON.parse(await readFile(join(dir, 'quickstart.ipynb'), 'utf8')) as { cells: { cell_type: string; outputs?: Output[] }[] };
    const outputs = executed.cells.flatMap((c) => c.outputs ?? []);
    const errors = outputs.filter((o) => o.output_type === 'error');
    assert.deepEqual(errors.map((e) => `${e.ename}: ${e.evalue}`), []);
    const text = outputs.filter((o) => o.output_type === 'stream').map((o) => (Array.isArray(o.text) ? o.text.join('') : o.text)).join('');
    const { frames, meanFrameMs, maxFrameMs, errors: errorLogs, warnings } = DEMO_FACTS;
    assert.match(text, new RegExp(`frames: ${frames}\\n`));
    assert.match(text, new RegExp(`mean frame time: ${meanFrameMs.toFixed(2)} ms, p99: [\\d.]+ ms, slowest: ${maxFrameMs.toFixed(2)} ms`));
    assert.match(text, new RegExp(`errors: ${errorLogs}, warnings: ${warnings}\\n`));
    assert.match(text, new RegExp(`errors per 1000 frames: ${((1000 * errorLogs) / frames).toFixed(1)}\\n`));
    const plots = outputs.filter((o) => o.output_type === 'display_data' && o.data?.['image/png']);
    assert.equal(plots.length, 2, 'a frame-time plot and an error-rate plot');
    // the last cell shows the latest errors as a table
    const table = outputs.find((o) => o.output_type === 'execute_result' && o.data?.['text/html']);
    assert.match(String(table?.data?.['text/plain']), /lost connection to matchmaking/);
  });
});
