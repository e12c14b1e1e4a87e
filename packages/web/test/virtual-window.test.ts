import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeWindow, pagesFor, scrollTopForRow } from '../src/lib/virtual-window.js';

test('only the rows in view plus overscan are rendered, at their natural offset', () => {
  const w = computeWindow({ scrollTop: 2000, viewportHeight: 600, rowHeight: 20, rowCount: 1_000_000, overscan: 5, maxScrollPx: 1e9 });
  assert.equal(w.first, 95);
  assert.equal(w.last, 100 + 31 + 5);
  assert.equal(w.offsetY, 95 * 20);
  assert.equal(w.totalHeight, 20_000_000);
  assert.equal(w.scale, 1);
});

test('short lists and empty lists', () => {
  assert.deepEqual(computeWindow({ scrollTop: 0, viewportHeight: 600, rowHeight: 20, rowCount: 3 }), {
    first: 0, last: 3, offsetY: 0, totalHeight: 60, scale: 1,
  });
  const e = computeWindow({ scrollTop: 50, viewportHeight: 600, rowHeight: 20, rowCount: 0 });
  assert.equal(e.last - e.first, 0);
});

test('a million rows past the browser height cap: scaled, and the last row is reachable', () => {
  const base = { viewportHeight: 600, rowHeight: 20, rowCount: 1_000_000, overscan: 0, maxScrollPx: 8_000_000 };
  const top = computeWindow({ ...base, scrollTop: 0 });
  assert.equal(top.first, 0);
  assert.equal(top.totalHeight, 8_000_000);
  assert.ok(top.scale > 2);
  const bottom = computeWindow({ ...base, scrollTop: 8_000_000 });
  assert.equal(bottom.last, 1_000_000);
  assert.ok(bottom.offsetY <= 8_000_000 - 600 + 1);
  const mid = computeWindow({ ...base, scrollTop: 4_000_000 });
  assert.ok(Math.abs(mid.first - 500_000) < 100, `mid row ${mid.first}`);
  // scrolling one pixel never jumps more than `scale` rows
  const a = computeWindow({ ...base, scrollTop: 1234 });
  const b = computeWindow({ ...base, scrollTop: 1235 });
  assert.ok(b.first - a.first <= Math.ceil(a.scale));
});

test('scrollTopForRow inverts computeWindow (plain and scaled)', () => {
  for (const maxScrollPx of [1e9, 8_000_000]) {
    const base = { viewportHeight: 600, rowHeight: 20, rowCount: 1_000_000, overscan: 0, maxScrollPx };
    for (const row of [0, 1234, 500_000, 999_970]) {
      const w = computeWindow({ ...base, scrollTop: scrollTopForRow(row, base) });
      assert.ok(Math.abs(w.first - row) <= 1, `row ${row} → ${w.first}`);
    }
  }
});

test('pages covering a window', () => {
  assert.deepEqual(pagesFor(0, 10, 500), [0]);
  assert.deepEqual(pagesFor(495, 1005, 500), [0, 1, 2]);
  assert.deepEqual(pagesFor(10, 10, 500), []);
});
