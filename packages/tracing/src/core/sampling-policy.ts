/**
 * The tail-sampling policy: a public function that decides, for one cpu block whose window has passed,
 * whether it is uploaded. It sees the block and what the sender knows around it (recent frames of every
 * thread, error/fatal logs, `keepTrace` calls). The default keeps slow frames and their neighbours, the
 * frames around errors and `keepTrace`, and a random baseline.
 */
import type { SamplingSettings } from './sampling-settings.js';

/** One recorded frame; times in ms on the process clock (the same clock as blocks and marks). */
export interface FrameInfo {
  begin: number;
  end: number;
}

/** Something that asks for the trace around it. */
export interface SamplingMark {
  /** `error`: a log at level 1 (fatal) or 2 (error); `keep`: a `keepTrace(reason)` call */
  kind: 'error' | 'keep';
  /** ms, process clock */
  time: number;
  /** the log message or the keepTrace reason */
  reason: string;
}

/**
 * A cpu block waiting for its decision: one segment of a thread's records (a frame, by default). The policy
 * decides each segment; the sender then uploads the kept segments that follow each other as one block.
 */
export interface SampledBlock {
  /** the recording thread (its key, as in `SamplingContext.frames`) */
  thread: string;
  /** first and last event, ms on the process clock */
  begin: number;
  end: number;
  events: number;
  /**
   * size of its records as held, uncompressed (8 bytes per slot: 16 per thread-span event, 32 per async one);
   * segments are encoded and compressed only once kept, together with their kept neighbours
   */
  bytes: number;
  /** frames that ended in this block */
  frames: number;
}

export interface SamplingContext {
  /** recent frames per thread, oldest first (threads that never recorded a frame are absent) */
  readonly frames: ReadonlyMap<string, readonly FrameInfo[]>;
  /** recent error logs and keepTrace calls, in arrival order */
  readonly marks: readonly SamplingMark[];
  readonly settings: SamplingSettings;
  /** uniform in [0, 1) (seeded in tests) */
  random(): number;
}

/**
 * Returns true to upload the block, false to discard it. Runs in the sender: it must only use its
 * arguments (it is moved there as source text).
 *
 * @example
 * // keep only blocks with a frame over 50 ms
 * init({ sampling: { policy: (block, ctx) => [...ctx.frames.values()].some((fs) =>
 *   fs.some((f) => f.end - f.begin > 50 && f.begin <= block.end && f.end >= block.begin)) } });
 */
export type SamplingPolicy = (block: SampledBlock, context: SamplingContext) => boolean;

/** first index whose frame ends at or after `t` (frames.length when none) */
function firstEndingAfter(frames: readonly FrameInfo[], t: number): number {
  let lo = 0;
  let hi = frames.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (frames[mid]!.end < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** last index whose frame begins at or before `t` (-1 when none) */
function lastBeginningBefore(frames: readonly FrameInfo[], t: number): number {
  let lo = 0;
  let hi = frames.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (frames[mid]!.begin <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** does the run of frames [from, to] (clamped), widened to include `t`, overlap [b, e]? */
function runOverlaps(frames: readonly FrameInfo[], from: number, to: number, b: number, e: number, t = NaN): boolean {
  const first = frames[Math.max(0, from)];
  const last = frames[Math.min(frames.length - 1, to)];
  let lo = first === undefined ? t : first.begin;
  let hi = last === undefined ? t : last.end;
  if (t < lo) lo = t;
  if (t > hi) hi = t;
  return lo <= e && hi >= b;
}

/**
 * Keeps a block when it overlaps (on any thread's frames):
 * - a frame slower than `frameBudgetMs`, or one of the `framesBefore` frames before / `framesAfter` after it;
 * - the frame around an error/fatal log or a `keepTrace` call, with the same neighbours (with no frames
 *   recorded, the block holding that instant);
 * - otherwise, with probability `baseline`.
 */
export const defaultSamplingPolicy: SamplingPolicy = (block, ctx) => {
  const { frameBudgetMs, framesBefore, framesAfter, baseline } = ctx.settings;
  const b = block.begin;
  const e = block.end;
  for (const frames of ctx.frames.values()) {
    // frames i0..i1 overlap the block; a slow frame s keeps s-framesBefore..s+framesAfter
    const i0 = firstEndingAfter(frames, b);
    const i1 = lastBeginningBefore(frames, e);
    const from = Math.max(0, i0 - framesAfter);
    const to = Math.min(frames.length - 1, i1 + framesBefore);
    for (let s = from; s <= to; s++) {
      const f = frames[s]!;
      if (f.end - f.begin > frameBudgetMs && runOverlaps(frames, s - framesBefore, s + framesAfter, b, e)) return true;
    }
  }
  for (const m of ctx.marks) {
    if (ctx.frames.size === 0) {
      if (m.time >= b && m.time <= e) return true;
      continue;
    }
    for (const frames of ctx.frames.values()) {
      const j = Math.min(firstEndingAfter(frames, m.time), frames.length - 1);
      if (runOverlaps(frames, j - framesBefore, j + framesAfter, b, e, m.time)) return true;
    }
  }
  return baseline > 0 && ctx.random() < baseline;
};
