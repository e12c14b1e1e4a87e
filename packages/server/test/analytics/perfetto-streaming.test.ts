/**
 * The incremental Perfetto writer: a trace written in pieces, cut at arbitrary times, decodes to the same
 * slices as one written at once, with spans crossing any number of cuts written once, at their own times.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PerfettoTraceWriter } from '../../src/analytics/perfetto/index.js';
import { decodeTrace, type Slice } from './perfetto-reader.js';
import { rng } from '../lakehouse/span-fixtures.js';

interface ThreadSpan { thread: number; begin: bigint; end: bigint; depth: number; name: string }
interface AsyncEv { time: bigint; type: 'begin' | 'end'; id: bigint; parent: bigint; name: string }

/** nested spans: each level splits its parent's interval into children with gaps; some zero-length */
function nestedSpans(random: () => number, thread: number, begin: bigint, end: bigint, depth: number, out: ThreadSpan[]): void {
  out.push({ thread, begin, end, depth, name: `t${thread} d${depth} ${out.length % 7}` });
  if (depth >= 4 || end - begin < 4n) return;
  let at = begin;
  while (at < end) {
    const len = BigInt(Math.floor(random() * Number(end - at)));
    const childEnd = at + len;
    if (random() < 0.7) nestedSpans(random, thread, at, childEnd, depth + 1, out);
    at = childEnd + 1n + BigInt(Math.floor(random() * 5));
  }
}

function fixture(seed: number) {
  const random = rng(seed);
  const threads: ThreadSpan[] = [];
  for (let t = 0; t < 3; t++) {
    let at = 0n;
    while (at < 20_000n) {
      const len = 1n + BigInt(Math.floor(random() * 3_000));
      nestedSpans(random, t, at, at + len, 0, threads);
      // frames touching end to begin (a span ending where the next begins) on thread 0
      at += len + (t === 0 ? 0n : 1n + BigInt(Math.floor(random() * 50)));
    }
  }
  const asyncEvents: AsyncEv[] = [];
  const open: { id: bigint; parent: bigint; name: string }[] = [];
  let next = 1n;
  for (let tick = 0n; tick < 20_000n; tick += 1n + BigInt(Math.floor(random() * 40))) {
    if (open.length > 0 && random() < 0.45) {
      const [s] = open.splice(Math.floor(random() * open.length), 1);
      asyncEvents.push({ time: tick, type: 'end', id: s!.id, parent: s!.parent, name: s!.name });
    } else {
      const parent = open.length > 0 && random() < 0.6 ? open[open.length - 1]!.id : 0n;
      const id = next++;
      open.push({ id, parent, name: `op ${id}` });
      asyncEvents.push({ time: tick, type: 'begin', id, parent, name: `op ${id}` });
    }
  }
  // spans still open at the end of the data end where the trace ends
  return { threads, asyncEvents, stillOpen: new Set(open.map((s) => s.id)) };
}

const info = (name: string) => ({ name, target: 'game', filename: 'loop.ts', line: 7 });
const byTime = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);

/** Feeds the fixture in time order, cutting where `cutHere` says; returns the concatenated pieces and their count. */
function write(f: ReturnType<typeof fixture>, cutHere: () => boolean, internLimit?: number): { bytes: Uint8Array; pieces: number } {
  const w = new PerfettoTraceWriter({ process_id: 'p', exe: 'game', pid: 10 }, ['main', 'worker 1', 'worker 2'], { internLimit });
  type Item = { ts: bigint; kind: number; depth: number; end: bigint; add(): void };
  const items: Item[] = [
    ...f.threads.map((s) => ({ ts: s.begin, kind: 0, depth: s.depth, end: s.end, add: () => w.threadSpan(s.thread, s.begin, s.end, s.depth, info(s.name)) })),
    ...f.asyncEvents.map((e) => ({ ts: e.time, kind: 1, depth: 0, end: 0n, add: () => w.asyncEvent(e.time, e.type, e.id, e.parent, 0, info(e.name)) })),
  ];
  items.sort((a, b) => byTime(a.ts, b.ts) || a.kind - b.kind || a.depth - b.depth || byTime(b.end, a.end));
  const pieces: Uint8Array[] = [];
  for (const it of items) {
    // a cut at t promises that nothing later is earlier than t: the next item's time is such a t
    if (cutHere()) pieces.push(w.cut(it.ts));
    it.add();
  }
  pieces.push(w.finish());
  const total = pieces.reduce((n, p) => n + p.length, 0);
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const p of pieces) (bytes.set(p, at), (at += p.length));
  return { bytes, pieces: pieces.filter((p) => p.length > 0).length };
}

function expected(f: ReturnType<typeof fixture>): string[] {
  const names = ['main', 'worker 1', 'worker 2'];
  const out = f.threads.map((s) => `${names[s.thread]}|${s.name}|${s.begin}|${s.end}|${s.depth}`);
  let last = f.asyncEvents.reduce((m, e) => (e.time > m ? e.time : m), 0n);
  for (const s of f.threads) if (s.end > last) last = s.end;
  const ends = new Map(f.asyncEvents.filter((e) => e.type === 'end').map((e) => [e.id, e.time]));
  for (const e of f.asyncEvents) if (e.type === 'begin') out.push(`async|${e.name}|${e.time}|${f.stillOpen.has(e.id) ? last : ends.get(e.id)}`);
  return out.sort();
}

function decoded(bytes: Uint8Array) {
  const d = decodeTrace(bytes);
  const key = (s: Slice) => {
    const t = d.tracks.get(s.track)!;
    return t.threadName !== undefined ? `${t.threadName}|${s.name}|${s.begin}|${s.end}|${s.depth}` : `async|${s.name}|${s.begin}|${s.end}`;
  };
  return { ...d, keys: d.slices.map(key).sort() };
}

test('a trace cut at arbitrary times decodes to every span once, at its own times and depth', () => {
  const f = fixture(3);
  const whole = write(f, () => false);
  const random = rng(99);
  const pieced = write(f, () => random() < 0.05);
  assert.ok(pieced.pieces > 100, `cut into many pieces (${pieced.pieces})`);
  const want = expected(f);
  assert.ok(want.length > 2_000, `${want.length} spans`);
  assert.deepEqual(decoded(whole.bytes).keys, want);
  const got = decoded(pieced.bytes);
  assert.deepEqual(got.keys, want);
  const lanes = [...got.tracks.values()].filter((t) => t.threadName === undefined && t.processName === undefined);
  assert.ok(lanes.length >= 2, 'overlapping async spans on several lanes');
});

test('cut after every input, spans open across thousands of pieces still close once', () => {
  const f = fixture(8);
  const got = decoded(write(f, () => true).bytes);
  assert.deepEqual(got.keys, expected(f));
});

test('interning tables past their bound clear the incremental state; the trace still decodes', () => {
  const f = fixture(5);
  const random = rng(1);
  const got = decoded(write(f, () => random() < 0.1, 40).bytes);
  assert.ok(got.stateClears > 5, `the state was cleared ${got.stateClears} times`);
  assert.deepEqual(got.keys, expected(f));
});
