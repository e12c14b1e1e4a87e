import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockEncoder, decodeBlock, encodeBlock, noCompression } from '@sirius/transit';
import {
  THREAD_SPANS_COLUMNS,
  extendThreadSpans,
  openThreadSpansRows,
  threadSpansRows,
  type ThreadSpansCheckpoint,
} from '../../src/lakehouse/thread-spans.js';
import { callSiteHash } from '../../src/lakehouse/span-hash.js';
import { SpanError } from '../../src/lakehouse/span-error.js';
import type { DecodedBlock } from '../../src/lakehouse/span-blocks.js';
import type { RowBatch } from '../../src/lakehouse/row-batch.js';
import { rng, rowObjects, threadBlocks, timeOf, type ScriptEvent, type ScriptOptions } from './span-fixtures.js';

const T0 = 1_700_000_000_123_456_789n;
const process = { tsc_frequency: 1e6, start_time: T0, start_ticks: 0n };
const opts: ScriptOptions = { freq: 1e6, t0: T0 };

/** a frame with an update, a render with a nested draw (unicode name), then a second frame */
const script: ScriptEvent[] = [
  ['b', 0, 'frame', 10],
  ['b', 10, 'update', 20],
  ['e', 30, 'update', 20],
  ['b', 30, 'render', 30],
  ['b', 35, '描画 🎨 draw', 31],
  ['e', 40, '描画 🎨 draw', 31],
  ['e', 90, 'render', 30],
  ['e', 100, 'frame', 10],
  ['b', 120, 'frame', 10],
  ['e', 150, 'frame', 10],
];

function expectedScriptRows(): Record<string, unknown>[] {
  const row = (id: number, parent: number, depth: number, name: string, line: number, b: number, e: number) => ({
    id: BigInt(id),
    parent: BigInt(parent),
    depth,
    hash: callSiteHash(name, 'game', 'loop.ts', line),
    begin: T0 + BigInt(b * 1000),
    end: T0 + BigInt(e * 1000),
    duration: BigInt((e - b) * 1000),
    name,
    target: 'game',
    filename: 'loop.ts',
    line,
  });
  return [
    row(1, 0, 0, 'frame', 10, 0, 100),
    row(2, 1, 1, 'update', 20, 10, 30),
    row(3, 1, 1, 'render', 30, 30, 90),
    row(4, 3, 2, '描画 🎨 draw', 31, 35, 40),
    row(5, 0, 0, 'frame', 10, 120, 150),
  ];
}

test('a scripted trace gives every column its expected value', () => {
  const rows = threadSpansRows(threadBlocks(script, opts), process);
  assert.deepEqual(rows.columns, THREAD_SPANS_COLUMNS);
  assert.deepEqual(
    rows.columns.map((c) => `${c.name} ${c.type}`),
    ['id BIGINT', 'parent BIGINT', 'depth UINTEGER', 'hash UBIGINT', 'begin TIMESTAMP_NS', 'end TIMESTAMP_NS', 'duration BIGINT', 'name VARCHAR', 'target VARCHAR', 'filename VARCHAR', 'line UINTEGER'],
  );
  assert.equal(rows.length, 5);
  for (const col of rows.values) assert.equal(col.length, 5);
  assert.deepEqual(rowObjects(rows), expectedScriptRows());
  const hash = rows.values[3]!;
  assert.equal(hash[0], hash[4], 'same call site, same hash');
  assert.notEqual(hash[0], hash[1]);
});

test('call-site hashes are pinned (FNV-1a 64, cross-checked in Python): they must not change between versions', () => {
  assert.equal(callSiteHash('frame', 'game', 'loop.ts', 10), 0xbca4bd4e02daa9fbn);
  assert.equal(callSiteHash('', '', '', 0), 0x88201fb960ff6465n);
  assert.notEqual(callSiteHash('ab', 'c', '', 0), callSiteHash('a', 'bc', '', 0));
  for (const h of [callSiteHash('描画', 'x', 'y', 0xffffffff)]) assert.ok(h >= 0n && h < 1n << 64n);
});

test('spans straddling 2 and 3 blocks give the same rows as one block, for every cut', () => {
  const expected = expectedScriptRows();
  const ticks = [...new Set(script.map(([, t]) => t))];
  const cutPoints = [5, ...ticks.filter((t) => t > 0), 31, 95, 110, 140];
  let checked = 0;
  for (const a of cutPoints) {
    assert.deepEqual(rowObjects(threadSpansRows(threadBlocks(script, { ...opts, cuts: [a] }), process)), expected, `cut at ${a}`);
    checked++;
    for (const b of cutPoints) {
      if (b <= a) continue;
      const blocks = threadBlocks(script, { ...opts, cuts: [a, b] });
      assert.equal(blocks.length, 3);
      assert.deepEqual(rowObjects(threadSpansRows(blocks, process)), expected, `cuts at ${a}, ${b}`);
      checked++;
    }
  }
  assert.ok(checked > 50);
});

test('out-of-order and duplicated blocks give identical rows to in-order blocks', () => {
  const blocks = threadBlocks(script, { ...opts, cuts: [5, 33, 37, 95, 130] });
  const inOrder = threadSpansRows(blocks, process);
  const random = rng(7);
  for (let round = 0; round < 20; round++) {
    const shuffled = [...blocks];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    assert.deepEqual(threadSpansRows(shuffled, process), inOrder);
  }
  assert.deepEqual(threadSpansRows([...blocks].reverse(), process), inOrder);
  assert.deepEqual(threadSpansRows([...blocks, blocks[1]!, blocks[3]!], process), inOrder, 'a block listed twice is read once');
});

test('deep nesting: 1000 levels', () => {
  const n = 1000;
  const s: ScriptEvent[] = [];
  for (let i = 0; i < n; i++) s.push(['b', i, `level ${i}`]);
  for (let i = n - 1; i >= 0; i--) s.push(['e', 2 * n - i, `level ${i}`]);
  const rows = rowObjects(threadSpansRows(threadBlocks(s, { ...opts, cuts: [500, 1500] }), process));
  assert.equal(rows.length, n);
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    assert.equal(r.id, BigInt(i + 1));
    assert.equal(r.parent, BigInt(i));
    assert.equal(r.depth, i);
    assert.equal(r.name, `level ${i}`);
    assert.equal(r.begin, timeOf(i, opts));
    assert.equal(r.end, timeOf(2 * n - i, opts));
    assert.equal(r.duration, BigInt((2 * n - 2 * i) * 1000));
  }
});

test('100 000 spans in 100 blocks', (t) => {
  const spans = 100_000;
  const perBlock = 1000;
  const blocks: DecodedBlock[] = [];
  const ev = (kind: 'begin_thread_span' | 'end_thread_span', ticks: number, name: string, line: number) =>
    ({ kind, ticks, name, target: 'game', filename: 'loop.ts', line }) as const;
  // each frame: frame > (update, render); 3 spans per frame, 10 ticks per frame
  const frames = Math.ceil(spans / 3);
  let frame = 0;
  for (let b = 0; frame < frames; b++) {
    const lo = frame * 10;
    const events = [];
    for (let k = 0; k < perBlock / 3 && frame < frames; k++, frame++) {
      const f = frame * 10 - lo;
      events.push(ev('begin_thread_span', f, 'frame', 1), ev('begin_thread_span', f + 1, 'update', 2), ev('end_thread_span', f + 3, 'update', 2));
      events.push(ev('begin_thread_span', f + 4, 'render', 3), ev('end_thread_span', f + 8, 'render', 3), ev('end_thread_span', f + 9, 'frame', 1));
    }
    const hi = frame * 10;
    blocks.push({
      meta: { block_id: `b${b}`, stream_id: 's', process_id: 'p', begin_time: timeOf(lo, opts), begin_ticks: BigInt(lo), end_time: timeOf(hi, opts), end_ticks: BigInt(hi), nb_objects: events.length },
      events,
    });
  }
  const started = performance.now();
  const rows = threadSpansRows(blocks, process);
  t.diagnostic(`${frames * 6} events → ${rows.length} rows in ${(performance.now() - started).toFixed(1)} ms`);
  assert.equal(rows.length, frames * 3);
  const [id, parent, depth, , begin, end, duration, name] = rows.values as [bigint[], bigint[], number[], bigint[], bigint[], bigint[], bigint[], string[]];
  const last = rows.length - 1;
  assert.equal(id[last], BigInt(frames * 3));
  assert.equal(name[last], 'render');
  assert.equal(parent[last], BigInt(frames * 3 - 2));
  assert.equal(depth[last], 1);
  assert.equal(begin[last], timeOf((frames - 1) * 10 + 4, opts));
  assert.equal(end[last], timeOf((frames - 1) * 10 + 8, opts));
  assert.equal(duration[last], 4000n);
  let roots = 0;
  for (let i = 0; i < rows.length; i++) if (depth[i] === 0) roots++;
  assert.equal(roots, frames);
});

test('an end without a begin is dropped; a span never ended closes at the last known time', () => {
  const s: ScriptEvent[] = [
    ['e', 2, 'earlier'],
    ['b', 5, 'frame'],
    ['b', 6, 'update'],
    ['e', 8, 'update'],
    ['b', 9, 'render'],
  ];
  // the last block ends at tick 50, after the last event: the frame is known to run at least until then
  const blocks = threadBlocks(s, { ...opts, cuts: [7], endTick: 50 });
  const ext = extendThreadSpans(null, blocks, process);
  assert.equal(ext.stats.unmatched_ends, 1);
  assert.deepEqual(rowObjects(ext.rows).map((r) => r.name), ['update']);
  assert.deepEqual(ext.checkpoint.open.map((o) => [o.id, o.name, o.begin]), [
    [1, 'frame', timeOf(5, opts)],
    [3, 'render', timeOf(9, opts)],
  ]);
  assert.equal(ext.checkpoint.last_time, timeOf(50, opts));

  const full = rowObjects(threadSpansRows(blocks, process));
  assert.deepEqual(
    full.map((r) => [r.id, r.parent, r.depth, r.name, r.begin, r.end]),
    [
      [1n, 0n, 0, 'frame', timeOf(5, opts), timeOf(50, opts)],
      [2n, 1n, 1, 'update', timeOf(6, opts), timeOf(8, opts)],
      [3n, 1n, 1, 'render', timeOf(9, opts), timeOf(50, opts)],
    ],
  );
  assert.deepEqual(rowObjects(openThreadSpansRows(ext.checkpoint)), full.filter((r) => r.name !== 'update'));
});

test('an end that is not on top closes the spans above it; an end matching nothing is dropped', () => {
  const s: ScriptEvent[] = [
    ['b', 0, 'frame'],
    ['b', 1, 'update'],
    ['b', 2, 'physics'],
    ['e', 3, 'unknown'],
    ['e', 4, 'frame'], // update and physics lost their ends
    ['b', 5, 'frame'],
    ['b', 6, 'frame'], // recursion: the inner one is matched first
    ['e', 7, 'frame'],
    ['e', 8, 'frame'],
  ];
  const ext = extendThreadSpans(null, threadBlocks(s, opts), process);
  assert.equal(ext.stats.unmatched_ends, 1);
  assert.equal(ext.stats.implicitly_closed, 2);
  assert.deepEqual(ext.checkpoint.open, []);
  assert.deepEqual(
    rowObjects(ext.rows).map((r) => [r.id, r.parent, r.depth, r.name, r.begin, r.end]),
    [
      [1n, 0n, 0, 'frame', timeOf(0, opts), timeOf(4, opts)],
      [2n, 1n, 1, 'update', timeOf(1, opts), timeOf(4, opts)],
      [3n, 2n, 2, 'physics', timeOf(2, opts), timeOf(4, opts)],
      [4n, 0n, 0, 'frame', timeOf(5, opts), timeOf(8, opts)],
      [5n, 4n, 1, 'frame', timeOf(6, opts), timeOf(7, opts)],
    ],
  );
  // a span's call site includes its line: an end from another line does not match
  const other = extendThreadSpans(null, threadBlocks([['b', 0, 'f', 1], ['e', 1, 'f', 2]], opts), process);
  assert.equal(other.stats.unmatched_ends, 1);
  assert.equal(other.checkpoint.open.length, 1);
});

function concatRows(batches: RowBatch[]): Record<string, unknown>[] {
  return batches.flatMap(rowObjects).sort((a, b) => Number((a.id as bigint) - (b.id as bigint)));
}

test('extending from checkpoints, block by block, gives the same rows as one pass', () => {
  const random = rng(42);
  const s: ScriptEvent[] = [];
  const names = ['a', 'b', 'c', 'ü', '🚀'];
  const stack: string[] = [];
  for (let tick = 0; tick < 3000; tick++) {
    if (stack.length > 0 && (random() < 0.45 || stack.length > 12)) s.push(['e', tick, stack.pop()!]);
    else {
      const n = names[Math.floor(random() * names.length)]!;
      stack.push(n);
      s.push(['b', tick, n]);
    }
  }
  const cuts = [100, 101, 777, 1500, 1501, 2222, 2999];
  const blocks = threadBlocks(s, { ...opts, cuts, endTick: 3100 });
  const full = rowObjects(threadSpansRows(blocks, process));
  assert.ok(stack.length > 0, 'the script leaves spans open');

  let cp: ThreadSpansCheckpoint | null = null;
  const parts: RowBatch[] = [];
  for (const block of blocks) {
    const ext = extendThreadSpans(cp, [block], process);
    parts.push(ext.rows);
    cp = ext.checkpoint;
    // a provisional view at every checkpoint agrees with the final rows on ids, parents and depths
    for (const r of rowObjects(openThreadSpansRows(cp))) {
      const final = full[Number(r.id as bigint) - 1]!;
      assert.deepEqual([r.id, r.parent, r.depth, r.begin, r.name], [final.id, final.parent, final.depth, final.begin, final.name]);
    }
  }
  parts.push(openThreadSpansRows(cp!));
  assert.deepEqual(concatRows(parts), full);

  assert.throws(
    () => extendThreadSpans(cp, [blocks[2]!], process),
    (e: unknown) => e instanceof SpanError && e.code === 'block_before_checkpoint',
  );
});

test('bad input gets a typed error', () => {
  const blocks = threadBlocks(script, opts);
  for (const f of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => threadSpansRows(blocks, { ...process, tsc_frequency: f }), (e: unknown) => e instanceof SpanError && e.code === 'invalid_process');
  }
  const mixed = [...threadBlocks(script, opts), ...threadBlocks(script, { ...opts, stream_id: 'other' })];
  assert.throws(() => threadSpansRows(mixed, process), (e: unknown) => e instanceof SpanError && e.code === 'mixed_streams');
  assert.throws(
    () => extendThreadSpans({ stream_id: null, next_id: 0, end_ticks: null, last_time: null, open: [] }, blocks, process),
    (e: unknown) => e instanceof SpanError && e.code === 'invalid_checkpoint',
  );
});

test('no blocks, or blocks without spans, give an empty batch with the schema', () => {
  for (const rows of [threadSpansRows([], process), threadSpansRows(threadBlocks([], opts), process)]) {
    assert.equal(rows.length, 0);
    assert.equal(rows.values.length, THREAD_SPANS_COLUMNS.length);
    for (const col of rows.values) assert.equal(col.length, 0);
  }
});

test('blocks encoded and decoded by @sirius/transit convert like hand-built ones', () => {
  const enc = new BlockEncoder();
  const freq = 3e9; // a TSC-like clock: 3 ticks per ns
  const p = { tsc_frequency: freq, start_time: T0, start_ticks: 1000n };
  const payloads: Uint8Array[] = [];
  enc.beginThreadSpan(0, 'frame', 'game', 'loop.ts', 10);
  enc.beginThreadSpan(300, 'update', 'game', 'loop.ts', 20);
  payloads.push(enc.finish());
  enc.endThreadSpan(100, 'update', 'game', 'loop.ts', 20);
  enc.endThreadSpan(3_000_000, 'frame', 'game', 'loop.ts', 10);
  payloads.push(enc.finish());
  const U = (n: number) => `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;
  const metas = [
    { block_id: U(1), stream_id: U(2), process_id: U(3), begin_time: T0, begin_ticks: 1000n, end_time: T0 + 200n, end_ticks: 1600n, nb_objects: 2 },
    { block_id: U(4), stream_id: U(2), process_id: U(3), begin_time: T0 + 200n, begin_ticks: 1600n, end_time: T0 + 1_000_100n, end_ticks: 3_001_900n, nb_objects: 2 },
  ];
  const decoded = metas.map((m, i) => decodeBlock(encodeBlock(m, payloads[i]!, noCompression), [noCompression]));
  const rows = rowObjects(threadSpansRows(decoded.reverse(), p));
  assert.deepEqual(
    rows.map((r) => [r.id, r.parent, r.depth, r.name, r.begin, r.end, r.duration]),
    [
      [1n, 0n, 0, 'frame', T0, T0 + 200n + 1_000_000n, 1_000_200n],
      [2n, 1n, 1, 'update', T0 + 100n, T0 + 200n + 33n, 133n],
    ],
  );
});
