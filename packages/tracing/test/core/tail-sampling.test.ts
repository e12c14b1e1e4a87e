/**
 * Tail sampling on seeded traces: the default policy keeps exactly the blocks around slow frames, errors and
 * keepTrace calls (plus a seeded baseline), the window stays bounded when nothing is kept, custom policies
 * travel as source, and the segmenter cuts cpu records into self-contained blocks at frame boundaries.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CpuSegmenter } from '../../src/core/cpu-segmenter.js';
import { BEGIN_THREAD, END_THREAD, BEGIN_ASYNC } from '../../src/core/records.js';
import { defaultSamplingPolicy, type FrameInfo, type SampledBlock } from '../../src/core/sampling-policy.js';
import { compilePolicy, resolveSampling, type SamplingSettings } from '../../src/core/sampling-settings.js';
import { TailSampler } from '../../src/core/tail-sampler.js';
// a seeded PRNG, so "random" baselines are reproducible
import { prng } from '../../../transit/test/support/prng.js';


const PERIOD = 1000 / 60;

interface Trace {
  frames: FrameInfo[];
  marks: { kind: 'error' | 'keep'; frame: number; time: number }[];
}

/** n frames of `fast` ms every PERIOD, those in `slow` lasting 40 ms; marks in the middle of given frames */
function seededTrace(n: number, slow: number[], errors: number[], keeps: number[], fast = 8): Trace {
  const frames: FrameInfo[] = [];
  let t = 1000;
  for (let i = 0; i < n; i++) {
    const d = slow.includes(i) ? 40 : fast;
    frames.push({ begin: t, end: t + d });
    t += Math.max(PERIOD, d + 1);
  }
  const mid = (i: number): number => (frames[i]!.begin + frames[i]!.end) / 2;
  return {
    frames,
    marks: [...errors.map((f) => ({ kind: 'error' as const, frame: f, time: mid(f) })), ...keeps.map((f) => ({ kind: 'keep' as const, frame: f, time: mid(f) }))],
  };
}

function settings(over: Partial<SamplingSettings> = {}): SamplingSettings {
  return { ...(resolveSampling({}) as SamplingSettings), ...over };
}

/** one block per frame, as the sender cuts them; returns the indexes of kept frames */
function runPerFrame(trace: Trace, s: SamplingSettings, random: () => number, policy = defaultSamplingPolicy): number[] {
  const sampler = new TailSampler<number>(s, policy, 1 << 30, random);
  trace.frames.forEach((f, i) => {
    sampler.addFrame('t1', f);
    for (const m of trace.marks) if (m.frame === i) sampler.addMark({ kind: m.kind, time: m.time, reason: `mark ${i}` });
    const prevEnd = i === 0 ? f.begin : trace.frames[i - 1]!.end + 0.001;
    sampler.hold({ thread: 't1', begin: prevEnd, end: f.end, events: 4, bytes: 100, frames: 1 }, i);
  });
  const d = sampler.decide(Infinity);
  assert.equal(d.kept.length + d.discarded.length, trace.frames.length);
  return d.kept;
}

/** the expected kept frames, computed from indexes alone */
function around(indexes: number[], before: number, after: number, n: number): Set<number> {
  const keep = new Set<number>();
  for (const i of indexes) for (let j = Math.max(0, i - before); j <= Math.min(n - 1, i + after); j++) keep.add(j);
  return keep;
}

test('default policy: slow frames, errors and keepTrace calls with 2 frames either side, nothing else at baseline 0', () => {
  const trace = seededTrace(120, [10, 40, 41, 119], [70], [95]);
  const kept = runPerFrame(trace, settings({ baseline: 0 }), () => 1);
  const want = around([10, 40, 41, 119, 70, 95], 2, 2, 120);
  assert.deepEqual(kept, [...want].sort((a, b) => a - b));
});

test('default policy: framesBefore/framesAfter and frameBudgetMs are honoured', () => {
  const trace = seededTrace(60, [30], [], [], 20);
  // 20 ms frames are not slow against the default 25 ms budget…
  assert.deepEqual(runPerFrame(trace, settings({ baseline: 0, framesBefore: 3, framesAfter: 1 }), () => 1), [27, 28, 29, 30, 31]);
  // …and all of them are slow against 15 ms
  assert.equal(runPerFrame(trace, settings({ baseline: 0, frameBudgetMs: 15 }), () => 1).length, 60);
});

test('default policy: the baseline keeps the blocks its seeded draws select, and only asks for the others', () => {
  const trace = seededTrace(500, [100], [], []);
  const draws = prng(42);
  const expected = around([100], 2, 2, 500);
  const replay = prng(42);
  for (let i = 0; i < 500; i++) if (!expected.has(i) && replay() < 0.1) expected.add(i);
  const kept = runPerFrame(trace, settings({ baseline: 0.1 }), draws);
  assert.deepEqual(kept, [...expected].sort((a, b) => a - b));
  assert.ok(kept.length > 30 && kept.length < 90, `about 10 % of 500 plus 5, got ${kept.length}`);
});

test('blocks of several frames, and blocks of a thread without frames, are kept when they overlap a kept run', () => {
  const trace = seededTrace(40, [20], [], []);
  const sampler = new TailSampler<string>(settings({ baseline: 0 }), defaultSamplingPolicy, 1 << 30, () => 1);
  for (const f of trace.frames) sampler.addFrame('main', f);
  // main: blocks of 4 frames; frames 18..22 are kept, so blocks 16-19 and 20-23 are
  for (let i = 0; i < 40; i += 4) {
    sampler.hold({ thread: 'main', begin: trace.frames[i]!.begin, end: trace.frames[i + 3]!.end, events: 8, bytes: 10, frames: 4 }, `main ${i}`);
  }
  // a worker's 100 ms blocks: only those overlapping frames 18..22 are kept
  const t18 = trace.frames[18]!.begin;
  const t22 = trace.frames[22]!.end;
  for (let b = 1000; b < 1700; b += 100) sampler.hold({ thread: 'worker', begin: b, end: b + 99, events: 2, bytes: 10, frames: 0 }, `worker ${b}`);
  const d = sampler.decide(Infinity);
  const workers = [1000, 1100, 1200, 1300, 1400, 1500, 1600].filter((b) => b <= t22 && b + 99 >= t18).map((b) => `worker ${b}`);
  assert.deepEqual(d.kept.sort(), ['main 16', 'main 20', ...workers].sort());
});

test('a mark with no frames recorded keeps only the block that holds its instant', () => {
  const sampler = new TailSampler<number>(settings({ baseline: 0 }), defaultSamplingPolicy, 1 << 30, () => 1);
  sampler.addMark({ kind: 'keep', time: 250, reason: 'why' });
  for (let b = 0; b < 1000; b += 100) sampler.hold({ thread: 'w', begin: b, end: b + 99, events: 1, bytes: 1, frames: 0 }, b);
  assert.deepEqual(sampler.decide(Infinity).kept, [200]);
});

test('blocks wait windowMs after their last event; not-self-contained blocks are always kept', () => {
  const s = settings({ baseline: 0, windowMs: 3000 });
  const sampler = new TailSampler<number>(s, defaultSamplingPolicy, 1 << 30, () => 1);
  sampler.addFrame('t', { begin: 0, end: 10 });
  sampler.hold({ thread: 't', begin: 0, end: 10, events: 2, bytes: 5, frames: 1 }, 1);
  sampler.hold({ thread: 't', begin: 11, end: 2000, events: 2, bytes: 5, frames: 0 }, 2, true);
  assert.deepEqual(sampler.decide(3009), { kept: [], discarded: [], keptBytes: 0, discardedBytes: 0 });
  assert.deepEqual(sampler.decide(3010), { kept: [], discarded: [1], keptBytes: 0, discardedBytes: 5 });
  assert.equal(sampler.heldBlocks, 1);
  assert.deepEqual(sampler.decide(5000).kept, [2]);
});

test('the window stays bounded when nothing is ever kept: blocks, bytes, frames and marks', () => {
  const s = settings({ baseline: 0, windowMs: 2000 });
  const sampler = new TailSampler<number>(s, defaultSamplingPolicy, 64 * 1024, () => 1);
  let discarded = 0;
  let maxHeld = 0;
  let maxRemembered = 0;
  let maxBytes = 0;
  for (let i = 0; i < 200_000; i++) {
    const begin = i * PERIOD;
    sampler.addFrame('main', { begin, end: begin + 5 });
    if (i % 600 === 0) sampler.addMark({ kind: 'error', time: begin - 10_000, reason: 'old error' });
    sampler.hold({ thread: 'main', begin, end: begin + 5, events: 10, bytes: 200, frames: 1 }, i);
    if (i % 30 === 0) {
      const d = sampler.decide(begin + 5);
      assert.equal(d.kept.length, 0);
      discarded += d.discarded.length;
    }
    maxHeld = Math.max(maxHeld, sampler.heldBlocks);
    maxBytes = Math.max(maxBytes, sampler.heldBytes);
    maxRemembered = Math.max(maxRemembered, sampler.remembered);
  }
  discarded += sampler.decide(Infinity).discarded.length;
  assert.equal(discarded, 200_000);
  // 2 s of frames at 60 fps is 120 blocks; the decision runs every 30
  assert.ok(maxHeld <= 160, `held ${maxHeld} blocks`);
  assert.ok(maxBytes <= 64 * 1024, `held ${maxBytes} bytes`);
  assert.ok(maxRemembered <= 600, `remembered ${maxRemembered} frames and marks`);
});

test('past maxWindowBytes the oldest blocks are decided at once, whatever the time', () => {
  const sampler = new TailSampler<number>(settings({ baseline: 0 }), defaultSamplingPolicy, 1000, () => 1);
  for (let i = 0; i < 50; i++) {
    sampler.hold({ thread: 't', begin: i, end: i, events: 1, bytes: 100, frames: 0 }, i);
    sampler.decide(0);
    assert.ok(sampler.heldBytes <= 1000);
  }
  assert.equal(sampler.heldBlocks, 10);
});

test('a policy that throws keeps its block; custom policies are rebuilt from source (arrow, function, method)', () => {
  const boom = new TailSampler<number>(settings(), () => { throw new Error('x'); }, 1 << 20, () => 1);
  boom.hold({ thread: 't', begin: 0, end: 1, events: 1, bytes: 1, frames: 0 }, 7);
  assert.deepEqual(boom.decide(Infinity).kept, [7]);
  assert.equal(boom.policyErrors, 1);

  const block: SampledBlock = { thread: 't', begin: 0, end: 1, events: 3, bytes: 1, frames: 0 };
  const ctx = { frames: new Map(), marks: [], settings: settings({ params: { min: 3 } }), random: () => 0 };
  const arrow = resolveSampling({ policy: (b, c) => b.events >= (c.settings.params.min as number) }) as SamplingSettings;
  assert.equal(compilePolicy(arrow.policySource!)(block, ctx), true);
  const fn = resolveSampling({ policy: function keepNone() { return false; } }) as SamplingSettings;
  assert.equal(compilePolicy(fn.policySource!)(block, ctx), false);
  const holder = { policy(b: SampledBlock) { return b.events === 3; } };
  const method = resolveSampling({ policy: holder.policy }) as SamplingSettings;
  assert.equal(compilePolicy(method.policySource!)(block, ctx), true);
});

test('settings: defaults, false turns sampling off, bad values are named', () => {
  const d = resolveSampling(undefined) as SamplingSettings;
  assert.equal(d.windowMs, 3000);
  assert.equal(d.frameBudgetMs, 25);
  assert.equal(d.framesBefore, 2);
  assert.equal(d.baseline, 0.01);
  assert.equal(resolveSampling(false), false);
  assert.throws(() => resolveSampling({ baseline: 2 }), /sampling\.baseline/);
  assert.throws(() => resolveSampling({ windowMs: 0 }), /sampling\.windowMs/);
  assert.throws(() => resolveSampling({ framesBefore: 1.5 }), /sampling\.framesBefore/);
  assert.throws(() => resolveSampling({ policy: 'x' as never }), /sampling\.policy/);
});

// ---- segmenter ---------------------------------------------------------------------------------

const FRAME = 1;
const CHILD = 2;
const rec = (desc: number, kind: number, t: number): number[] => (kind >= BEGIN_ASYNC ? [desc * 8 + kind, t, 1, 0] : [desc * 8 + kind, t]);

/** frames of [begin frame, begin child, end child, end frame] at 10 ms apart */
function frameRecords(from: number, count: number): number[] {
  const out: number[] = [];
  for (let i = from; i < from + count; i++) {
    const t = i * 10;
    out.push(...rec(FRAME, BEGIN_THREAD, t), ...rec(CHILD, BEGIN_THREAD, t + 1), ...rec(CHILD, END_THREAD, t + 2), ...rec(FRAME, END_THREAD, t + 3));
  }
  return out;
}

test('segmenter: one block per frame once frames are seen, the unfinished frame carried to the next batch', () => {
  const frames: FrameInfo[] = [];
  const seg = new CpuSegmenter(1, (d) => d === FRAME, (f) => frames.push(f));
  // 3 whole frames then the first half of a 4th
  const a = new Float64Array([...frameRecords(0, 3), ...rec(FRAME, BEGIN_THREAD, 30), ...rec(CHILD, BEGIN_THREAD, 31)]);
  const first = seg.process(a, a.length, 100, () => true);
  assert.deepEqual(first.map((s) => [s.begin, s.end, s.events, s.frames, s.selfContained]), [
    [100, 103, 4, 1, true], [110, 113, 4, 1, true], [120, 123, 4, 1, true],
  ]);
  assert.equal(seg.carriedSlots, 4);
  const b = new Float64Array([...rec(CHILD, END_THREAD, 32), ...rec(FRAME, END_THREAD, 33), ...frameRecords(4, 1)]);
  const second = seg.process(b, b.length, 100, () => true);
  assert.deepEqual(second.map((s) => [s.begin, s.end, s.events, s.frames, s.selfContained]), [[130, 133, 4, 1, true], [140, 143, 4, 1, true]]);
  assert.deepEqual(Array.from(second[0]!.f64), [...rec(FRAME, BEGIN_THREAD, 30), ...rec(CHILD, BEGIN_THREAD, 31), ...rec(CHILD, END_THREAD, 32), ...rec(FRAME, END_THREAD, 33)]);
  assert.deepEqual(frames.map((f) => f.end - f.begin), [3, 3, 3, 3, 3]);
});

test('segmenter: framesPerBlock groups frames; async events and spans between frames stay in the blocks', () => {
  const seg = new CpuSegmenter(2, (d) => d === FRAME, () => {});
  const a = new Float64Array([...frameRecords(0, 2), ...rec(CHILD, BEGIN_ASYNC, 25), ...frameRecords(3, 3)]);
  const out = seg.process(a, a.length, 0, () => true);
  assert.deepEqual(out.map((s) => [s.frames, s.events, s.selfContained]), [[2, 8, true], [2, 9, true], [1, 4, true]]);
  assert.equal(out.reduce((n, s) => n + s.slots, 0), a.length);
});

test('segmenter: without frames the batch goes whole; a span left open is carried, then flagged when taken', () => {
  const seg = new CpuSegmenter(1, (d) => d === FRAME, () => {});
  const a = new Float64Array([...rec(CHILD, BEGIN_THREAD, 1), ...rec(CHILD, END_THREAD, 2), ...rec(CHILD, BEGIN_THREAD, 3)]);
  const whole = seg.process(a, a.length, 0, () => false);
  assert.deepEqual(whole.map((s) => [s.events, s.selfContained]), [[3, false]]);
  const seg2 = new CpuSegmenter(1, (d) => d === FRAME, () => {});
  const split = seg2.process(a, a.length, 0, () => true);
  assert.deepEqual(split.map((s) => [s.events, s.selfContained]), [[2, true]]);
  const left = seg2.takeCarry();
  assert.deepEqual([left?.events, left?.selfContained, left?.begin], [1, false, 3]);
});
