import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TransitEvent } from '@sirius/transit';
import { perfettoTrace } from '../../src/analytics/perfetto/index.js';
import { threadSpansRows } from '../../src/lakehouse/thread-spans.js';
import { asyncEventsRows } from '../../src/lakehouse/async-events.js';
import type { RowBatch } from '../../src/lakehouse/row-batch.js';
import { decodeTrace } from './perfetto-reader.js';
import { meta, rng, rowObjects, threadBlocks, type ScriptEvent, type ScriptOptions } from '../lakehouse/span-fixtures.js';


// ---- fixtures ------------------------------------------------------------------------------------

const T0 = 1_700_000_000_000_000_000n;
const opts: ScriptOptions = { freq: 1e6, t0: T0 };
const process = { tsc_frequency: 1e6, start_time: T0, start_ticks: 0n };

const mainScript: ScriptEvent[] = [
  ['b', 0, 'frame', 10],
  ['b', 10, 'update', 20],
  ['e', 30, 'update', 20],
  ['b', 30, 'render', 30],
  ['b', 35, 'draw 🎨', 31],
  ['e', 40, 'draw 🎨', 31],
  ['e', 90, 'render', 30],
  ['e', 100, 'frame', 10],
  ['b', 100, 'frame', 10],
  ['b', 100, 'zero', 11],
  ['e', 100, 'zero', 11],
  ['e', 150, 'frame', 10],
];
const workerScript: ScriptEvent[] = [
  ['b', 5, 'job', 1],
  ['e', 60, 'job', 1],
];

function sortSlices<T extends { begin: bigint; depth: number; name: string }>(s: T[]): T[] {
  return [...s].sort((a, b) => (a.begin !== b.begin ? (a.begin < b.begin ? -1 : 1) : a.depth - b.depth || a.name.localeCompare(b.name)));
}

function rowSlices(rows: RowBatch) {
  return rowObjects(rows).map((r) => ({
    name: r.name as string,
    category: r.target as string,
    file: r.filename as string,
    line: r.line as number,
    begin: r.begin as bigint,
    end: r.end as bigint,
    depth: r.depth as number,
  }));
}

test('thread spans of two streams become nested slices on two thread tracks of one process', () => {
  const main = threadSpansRows(threadBlocks(mainScript, { ...opts, stream_id: 'main', cuts: [33] }), process);
  const worker = threadSpansRows(threadBlocks(workerScript, { ...opts, stream_id: 'worker' }), process);
  const bytes = perfettoTrace({
    process: { process_id: 'p-1', exe: 'game.exe', pid: 4242 },
    threads: [
      { stream_id: 'main', name: 'main thread', rows: main },
      { stream_id: 'worker', name: 'wörker', rows: worker },
    ],
  });
  const { tracks, slices } = decodeTrace(bytes);
  assert.deepEqual(tracks.get(1), { name: 'game.exe', parent: undefined, pid: 4242, tid: undefined, processName: 'game.exe', threadName: undefined });
  assert.deepEqual(tracks.get(2), { name: 'main thread', parent: 1, pid: 4242, tid: 4243, processName: undefined, threadName: 'main thread' });
  assert.deepEqual(tracks.get(3), { name: 'wörker', parent: 1, pid: 4242, tid: 4244, processName: undefined, threadName: 'wörker' });
  assert.equal(tracks.size, 3);

  const onTrack = (uuid: number) => sortSlices(slices.filter((s) => s.track === uuid).map(({ track: _t, ...s }) => s));
  assert.deepEqual(onTrack(2), sortSlices(rowSlices(main)));
  assert.deepEqual(onTrack(3), sortSlices(rowSlices(worker)));
  assert.equal(slices.length, main.length + worker.length);
  assert.ok(slices.some((s) => s.name === 'zero' && s.depth === 1 && s.begin === s.end));
});

test('async spans are spread over lanes so that every lane nests, and every span is one slice', () => {
  const random = rng(11);
  const events: TransitEvent[] = [];
  const open: { id: number; parent: number }[] = [];
  let next = 1;
  for (let tick = 0; tick < 600; tick++) {
    if (open.length > 0 && random() < 0.45) {
      const [s] = open.splice(Math.floor(random() * open.length), 1);
      events.push({ kind: 'end_async_span', ticks: tick, span_id: s!.id, parent_span_id: s!.parent, name: `op ${s!.id}`, target: 'net', filename: 'a.ts', line: s!.id });
    } else {
      const parent = open.length > 0 && random() < 0.6 ? open[open.length - 1]!.id : 0;
      const id = next++;
      open.push({ id, parent });
      events.push({ kind: 'begin_async_span', ticks: tick, span_id: id, parent_span_id: parent, name: `op ${id}`, target: 'net', filename: 'a.ts', line: id });
    }
  }
  // a span still open at the end of the data, and an end without a begin
  events.push({ kind: 'begin_async_span', ticks: 600, span_id: 9999, parent_span_id: 0, name: 'never ends', target: 'net', filename: 'a.ts', line: 1 });
  events.push({ kind: 'end_async_span', ticks: 601, span_id: 7777, parent_span_id: 0, name: 'no begin', target: 'net', filename: 'a.ts', line: 1 });
  const stillOpen = new Set(open.map((s) => s.id));
  stillOpen.add(9999);
  const asyncRows = asyncEventsRows([{ stream_id: 's', blocks: [{ meta: meta('s', 'b0', 0, 700, events.length, opts), events }] }], process);
  const bytes = perfettoTrace({ process: { process_id: 'p-1', exe: 'server' }, threads: [], async: asyncRows });
  const { tracks, slices } = decodeTrace(bytes);

  const lanes = [...tracks.entries()].filter(([uuid]) => uuid !== 1);
  assert.ok(lanes.length >= 2, 'overlapping siblings need several lanes');
  for (const [, t] of lanes) assert.equal(t.parent, 1);
  assert.equal(lanes[0]![1].name, 'async');

  const last = (asyncRows.values[2] as bigint[])[asyncRows.length - 1]!;
  const begins = rowObjects(asyncRows).filter((r) => r.event_type === 'begin');
  const ends = new Map(rowObjects(asyncRows).filter((r) => r.event_type === 'end').map((r) => [r.span_id, r.time as bigint]));
  const expected = begins.map((r) => ({
    name: r.name as string,
    begin: r.time as bigint,
    end: stillOpen.has(Number(r.span_id as bigint)) ? last : ends.get(r.span_id)!,
  }));
  const key = (s: { name: string; begin: bigint; end: bigint }) => `${s.name}|${s.begin}|${s.end}`;
  assert.deepEqual(slices.map(key).sort(), expected.map(key).sort(), 'each span is exactly one slice with its own begin and end');
  assert.ok(!slices.some((s) => s.name === 'no begin'));
});

test('an empty export is a valid trace with just the process track', () => {
  const { tracks, slices } = decodeTrace(perfettoTrace({ process: { process_id: 'x', exe: 'idle' }, threads: [] }));
  assert.equal(tracks.size, 1);
  assert.equal(slices.length, 0);
  const pid = tracks.get(1)!.pid!;
  assert.ok(Number.isInteger(pid) && pid > 0);
  assert.equal(decodeTrace(perfettoTrace({ process: { process_id: 'x', exe: 'idle' }, threads: [] })).tracks.get(1)!.pid, pid, 'stable pid');
});

test('a large export round-trips: 30 000 spans', () => {
  const s: ScriptEvent[] = [];
  for (let f = 0; f < 10_000; f++) {
    const t = f * 10;
    s.push(['b', t, 'frame', 1], ['b', t + 1, 'update', 2], ['e', t + 3, 'update', 2], ['b', t + 4, 'render ✨', 3], ['e', t + 8, 'render ✨', 3], ['e', t + 9, 'frame', 1]);
  }
  const rows = threadSpansRows(threadBlocks(s, { ...opts, cuts: [33_333, 66_666] }), process);
  const { slices } = decodeTrace(perfettoTrace({ process: { process_id: 'p', exe: 'g' }, threads: [{ stream_id: 's', name: 'main', rows }] }));
  assert.equal(slices.length, 30_000);
  assert.deepEqual(sortSlices(slices.map(({ track: _t, ...x }) => x)), sortSlices(rowSlices(rows)));
});
