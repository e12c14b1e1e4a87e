import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newNotebook, addCell, removeCell, moveCell, toSaveBody, suggestView, pivotSeries, hasRun, rememberRun, type KeyValueStore } from '../src/lib/notebook-model.js';

test('a new notebook has starter cells with distinct ids and saves as the server expects', () => {
  const nb = newNotebook('abc');
  assert.equal(nb.version, null);
  assert.ok(nb.cells.length >= 2);
  assert.equal(new Set(nb.cells.map((c) => c.id)).size, nb.cells.length);
  const body = toSaveBody({ ...nb, title: '  ', version: null });
  assert.equal(body.title, 'Untitled notebook');
  assert.equal(body.baseVersion, null);
  assert.deepEqual(Object.keys(body.cells[0]!).sort(), ['id', 'sql', 'title', 'view']);
});

test('cells are added after an index, removed and moved within bounds', () => {
  let nb = { ...newNotebook('x'), cells: [] as ReturnType<typeof newNotebook>['cells'] };
  nb = addCell(nb, -1, { sql: 'a' });
  nb = addCell(nb, 0, { sql: 'c' });
  nb = addCell(nb, 0, { sql: 'b' });
  assert.deepEqual(nb.cells.map((c) => c.sql), ['a', 'b', 'c']);
  assert.deepEqual(moveCell(nb, 0, 1).cells.map((c) => c.sql), ['b', 'a', 'c']);
  assert.equal(moveCell(nb, 0, -1), nb, 'moving past the top is a no-op');
  assert.deepEqual(removeCell(nb, 1).cells.map((c) => c.sql), ['a', 'c']);
});

test('the suggested view follows the result columns', () => {
  assert.equal(suggestView([{ name: 't', kind: 'time' }, { name: 'n', kind: 'number' }]), 'timeseries');
  assert.equal(suggestView([{ name: 't', kind: 'time' }, { name: 'lvl', kind: 'string' }, { name: 'n', kind: 'number' }]), 'timeseries');
  assert.equal(suggestView([{ name: 'target', kind: 'string' }, { name: 'n', kind: 'number' }]), 'bar');
  assert.equal(suggestView([{ name: 'msg', kind: 'string' }]), 'table');
  assert.equal(suggestView([{ name: 't', kind: 'time' }, { name: 'msg', kind: 'string' }]), 'table');
});

test('long-format rows pivot into one series per group, gaps as null, duplicates summed', () => {
  const p = pivotSeries([2000, 1000, 1000, 2000, 2000], ['warn', 'info', 'warn', 'info', 'info'], [{ name: 'n', values: [1, 5, 2, 3, 4] }]);
  assert.deepEqual(p.x, [1000, 2000]);
  assert.deepEqual(p.series, [
    { label: 'info', values: [5, 7] },
    { label: 'warn', values: [2, 1] },
  ]);
  const wide = pivotSeries([1000, 3000], null, [{ name: 'a', values: [1, 2] }, { name: 'b', values: [NaN, 4] }]);
  assert.deepEqual(wide.series, [
    { label: 'a', values: [1, 2] },
    { label: 'b', values: [null, 4] },
  ]);
  const many = pivotSeries([1, 1, 1], ['x', 'y', 'z'], [{ name: 'n', values: [1, 10, 5] }], 2);
  assert.deepEqual(many.series.map((s) => s.label), ['y', 'z'], 'largest series kept');
});

/** a Storage stand-in with a quota, so the full-storage path is exercised too */
function memoryStore(quota = Infinity): KeyValueStore & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (k) => map.get(k) ?? null,
    setItem: (k, v) => {
      if (v.length > quota) throw new Error('QuotaExceededError');
      map.set(k, v);
    },
  };
}

test('a cell counts as run before only with the exact SQL this tab ran, in the same notebook', () => {
  const store = memoryStore();
  const cell = { id: 'c1', sql: 'SELECT 1' };
  assert.equal(hasRun(store, 'nb', cell), false);
  rememberRun(store, 'nb', cell);
  assert.equal(hasRun(store, 'nb', cell), true);
  // someone changed the shared cell since: it waits for its Run button
  assert.equal(hasRun(store, 'nb', { id: 'c1', sql: 'SELECT 1; -- changed' }), false);
  assert.equal(hasRun(store, 'other', cell), false);
  // running the edited SQL replaces what is remembered for the cell
  rememberRun(store, 'nb', { id: 'c1', sql: 'SELECT 2' });
  assert.equal(hasRun(store, 'nb', cell), false);
  assert.equal(hasRun(store, 'nb', { id: 'c1', sql: 'SELECT 2' }), true);
});

test('no storage, a full one or a corrupt entry only means nothing runs on open', () => {
  assert.equal(hasRun(null, 'nb', { id: 'c1', sql: 'SELECT 1' }), false);
  rememberRun(null, 'nb', { id: 'c1', sql: 'SELECT 1' });
  const full = memoryStore(10);
  rememberRun(full, 'nb', { id: 'c1', sql: 'SELECT 1' });
  assert.equal(hasRun(full, 'nb', { id: 'c1', sql: 'SELECT 1' }), false);
  const corrupt = memoryStore();
  corrupt.map.set('sirius.notebook-ran.nb', '{not json');
  assert.equal(hasRun(corrupt, 'nb', { id: 'c1', sql: 'SELECT 1' }), false);
  rememberRun(corrupt, 'nb', { id: 'c1', sql: 'SELECT 1' });
  assert.equal(hasRun(corrupt, 'nb', { id: 'c1', sql: 'SELECT 1' }), true);
});
