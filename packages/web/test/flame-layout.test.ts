import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layoutLanes, visibleRects, RectBuffer, spanAt, buildFlameGraph, type SpanColumns } from '../src/lib/flame-layout.js';

function spans(rows: [begin: number, end: number, depth: number, name: string][]): SpanColumns {
  const names: string[] = [];
  const nameIdx = (n: string) => (names.includes(n) ? names.indexOf(n) : names.push(n) - 1);
  return {
    count: rows.length,
    begin: Float64Array.from(rows.map((r) => r[0])),
    end: Float64Array.from(rows.map((r) => r[1])),
    depth: Uint16Array.from(rows.map((r) => r[2])),
    name: Int32Array.from(rows.map((r) => nameIdx(r[3]))),
    names,
  };
}

// two frames, each: frame → update, render; render → draw
const FRAMES = spans([
  [0, 100, 0, 'frame'],
  [0, 40, 1, 'update'],
  [40, 100, 1, 'render'],
  [50, 90, 2, 'draw'],
  [100, 200, 0, 'frame'],
  [100, 130, 1, 'update'],
  [130, 200, 1, 'render'],
  [140, 150, 2, 'draw'],
]);

function rects(buf: RectBuffer) {
  return Array.from({ length: buf.count }, (_, k) => [+buf.x[k]!.toFixed(2), +buf.w[k]!.toFixed(2), buf.depth[k], buf.span[k]]);
}

test('lanes per depth, sorted by begin, with the overall extent', () => {
  const l = layoutLanes(FRAMES);
  assert.equal(l.lanes.length, 3);
  assert.deepEqual([...l.lanes[1]!.idx], [1, 2, 5, 6]);
  assert.deepEqual([...l.lanes[2]!.maxEnd], [90, 150]);
  assert.equal(l.begin, 0);
  assert.equal(l.end, 200);
  const unsorted = layoutLanes(spans([[50, 60, 0, 'b'], [0, 10, 0, 'a']]));
  assert.deepEqual([...unsorted.lanes[0]!.idx], [1, 0]);
});

test('only spans overlapping the view become rects, clipped to the canvas', () => {
  const l = layoutLanes(FRAMES);
  const buf = new RectBuffer();
  visibleRects(l, FRAMES, { begin: 0, end: 200 }, 200, buf);
  assert.equal(buf.count, 8);
  visibleRects(l, FRAMES, { begin: 120, end: 160 }, 400, buf); // 10 px per ns
  assert.deepEqual(rects(buf), [
    [0, 400, 0, 4],
    [0, 100, 1, 5],
    [100, 300, 1, 6],
    [200, 100, 2, 7],
  ]);
});

test('sub-pixel spans merge into one rect per pixel run; wide neighbours keep their identity', () => {
  const rows: [number, number, number, string][] = [];
  for (let i = 0; i < 10_000; i++) rows.push([i * 10, i * 10 + 5, 0, 'tiny']);
  rows.push([100_000, 200_000, 0, 'wide']);
  const s = spans(rows);
  const buf = new RectBuffer();
  visibleRects(layoutLanes(s), s, { begin: 0, end: 200_000 }, 1000, buf); // 200 ns per px
  assert.ok(buf.count <= 3, `merged into ${buf.count} rects`);
  assert.equal(buf.span[buf.count - 1], 10_000, 'the wide span is its own rect');
  assert.equal(buf.span[0], -2, 'the tiny run is merged, keyed by its one name (index 0)');
  assert.ok(Math.abs(buf.x[0]! + buf.w[0]! - 500) <= 1, 'the run covers 0..500 px');
  // zoomed in, the same spans are separate again
  visibleRects(layoutLanes(s), s, { begin: 0, end: 100 }, 1000, buf);
  assert.equal(buf.count, 10);
  assert.ok(buf.span.slice(0, buf.count).every((i) => i >= 0));
});

test('a merged run of mixed names is neutral (-1)', () => {
  const s = spans([[0, 1, 0, 'a'], [2, 3, 0, 'b'], [4, 5, 0, 'a']]);
  const buf = new RectBuffer();
  visibleRects(layoutLanes(s), s, { begin: 0, end: 1000 }, 10, buf);
  assert.equal(buf.count, 1);
  assert.equal(buf.span[0], -1);
});

test('rect count is bounded by pixels, not spans (100 000 spans)', () => {
  const rows: [number, number, number, string][] = [];
  for (let i = 0; i < 100_000; i++) rows.push([i * 100, i * 100 + 60, i % 4 === 0 ? 0 : 1, `s${i % 7}`]);
  const s = spans(rows);
  const buf = new RectBuffer();
  visibleRects(layoutLanes(s), s, { begin: 0, end: 1e7 }, 1200, buf);
  assert.ok(buf.count <= 2 * 1200, `${buf.count} rects`);
});

test('hit testing finds the span under a point', () => {
  const l = layoutLanes(FRAMES);
  assert.equal(spanAt(l, FRAMES, 2, 60), 3);
  assert.equal(spanAt(l, FRAMES, 1, 130), 6);
  assert.equal(spanAt(l, FRAMES, 2, 120), -1);
  assert.equal(spanAt(l, FRAMES, 9, 10), -1);
});

test('flame graph merges identical call paths and orders children by name', () => {
  const f = buildFlameGraph(FRAMES);
  const nodes = Array.from({ length: f.count }, (_, k) => [f.names[f.name[k]!], f.depth[k], f.begin[k], f.end[k], f.calls[k]]);
  assert.deepEqual(nodes, [
    ['frame', 0, 0, 200, 2],
    ['render', 1, 0, 130, 2],
    ['draw', 2, 0, 50, 2],
    ['update', 1, 130, 200, 2],
  ]);
  // the same renderer draws it
  const buf = new RectBuffer();
  visibleRects(layoutLanes(f), f, { begin: 0, end: 200 }, 200, buf);
  assert.equal(buf.count, 4);
});

test('same name under different parents stays separate', () => {
  const f = buildFlameGraph(spans([
    [0, 10, 0, 'a'], [0, 5, 1, 'x'],
    [10, 20, 0, 'b'], [10, 15, 1, 'x'],
  ]));
  assert.equal(f.count, 4);
  assert.deepEqual(Array.from(f.depth), [0, 1, 0, 1]);
});

test('axis ticks use a 1-2-5 step', async () => {
  const { niceTicks } = await import('../src/lib/ticks.js');
  assert.deepEqual(niceTicks(0, 100, 5), { step: 20, ticks: [0, 20, 40, 60, 80] });
  assert.deepEqual(niceTicks(3, 9, 3).ticks, [4, 6, 8]);
  assert.deepEqual(niceTicks(5, 5, 3).ticks, []);
});

test('tick labels keep the precision the step needs', async () => {
  const { formatTick } = await import('../src/lib/ticks.js');
  assert.equal(formatTick(133_450_000_000, 50_000_000), '133.45 s');
  assert.equal(formatTick(2_000_000_000, 1_000_000_000), '2 s');
  assert.equal(formatTick(1_500_000, 500_000), '1.5 ms');
  assert.equal(formatTick(120, 20), '0.12 µs');
  assert.equal(formatTick(3, 0.5), '3.0 ns');
});
