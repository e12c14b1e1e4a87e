/**
 * Cuts one thread's cpu records into blocks for tail sampling. A block ends after every `framesPerBlock`
 * frames, where the thread's span stack is empty, so each block is self-contained: every span it begins
 * ends in it. Dropping any set of such blocks leaves the server (`thread_spans`) whole trees in the rest.
 * Records after the last point where the stack was empty (a frame still running at hand-off) wait here
 * for the next batch. Thread-span depth and frames are tracked on every batch, split or not.
 */
import { ASYNC_SPAN_SLOTS, BEGIN_THREAD, END_THREAD, THREAD_SPAN_SLOTS } from './records.js';
import type { FrameInfo } from './sampling-policy.js';

export interface CpuSegment {
  /** records (a view of the input or of a carried copy): encode or copy it before the input is reused */
  f64: Float64Array;
  slots: number;
  events: number;
  /** first and last event, ms on the process clock */
  begin: number;
  end: number;
  /** frames that ended in it */
  frames: number;
  /** begins and ends with an empty span stack */
  selfContained: boolean;
}

/** past this many carried slots a segment is emitted anyway (a span that never ends must not grow memory) */
const MAX_CARRY_SLOTS = 1 << 16;

export class CpuSegmenter {
  private depth = 0;
  private frameBegin = NaN;
  private carry: Float64Array | undefined;
  private carryDepth = 0;
  private carryOffsetMs = 0;

  constructor(
    private readonly framesPerBlock: number,
    /** is this descriptor id the frame span's? */
    private readonly isFrame: (descriptor: number) => boolean,
    private readonly onFrame: (frame: FrameInfo) => void,
  ) {}

  /**
   * Scans `slots` records of `a` (times in the thread's ms, `offsetMs` to the process clock). With `split()`
   * false once scanned (the program records no frames) the whole input is one segment, as without sampling.
   */
  process(a: Float64Array, slots: number, offsetMs: number, split: () => boolean): CpuSegment[] {
    let input = a.subarray(0, slots);
    let depth = this.depth;
    if (this.carry !== undefined) {
      // carried records are scanned again from the depth they started at: the same stack results
      const joined = new Float64Array(this.carry.length + slots);
      joined.set(this.carry);
      joined.set(input, this.carry.length);
      input = joined;
      depth = this.carryDepth;
      this.carry = undefined;
    }
    const n = input.length;
    const out: CpuSegment[] = [];
    const startDepth = depth;
    let segStart = 0;
    let segDepth = depth;
    let segEvents = 0;
    let segFrames = 0;
    let lastZero = -1;
    let lastZeroEvents = 0;
    let lastZeroFrames = 0;
    let lastZeroT = NaN;
    let total = 0;
    let totalFrames = 0;
    let t = NaN;
    const emit = (from: number, to: number, events: number, frames: number, fromDepth: number, toDepth: number, endT: number): void => {
      if (to <= from) return;
      out.push({
        f64: input.subarray(from, to), slots: to - from, events, begin: input[from + 1]! + offsetMs, end: endT,
        frames, selfContained: fromDepth === 0 && toDepth === 0,
      });
    };
    for (let p = 0; p < n;) {
      const code = input[p]!;
      const kind = code % 8;
      t = input[p + 1]! + offsetMs;
      if (kind === BEGIN_THREAD) {
        depth++;
        if (this.isFrame(Math.floor(code / 8))) this.frameBegin = t;
      } else if (kind === END_THREAD) {
        if (depth > 0) depth--;
        if (this.isFrame(Math.floor(code / 8)) && !Number.isNaN(this.frameBegin)) {
          this.onFrame({ begin: this.frameBegin, end: t });
          this.frameBegin = NaN;
          segFrames++;
          totalFrames++;
        }
      }
      p += kind === BEGIN_THREAD || kind === END_THREAD ? THREAD_SPAN_SLOTS : ASYNC_SPAN_SLOTS;
      segEvents++;
      total++;
      if (depth === 0) {
        if (segFrames >= this.framesPerBlock) {
          emit(segStart, p, segEvents, segFrames, segDepth, 0, t);
          segStart = p;
          segDepth = 0;
          segEvents = 0;
          segFrames = 0;
          lastZero = -1;
        } else {
          lastZero = p;
          lastZeroEvents = segEvents;
          lastZeroFrames = segFrames;
          lastZeroT = t;
        }
      }
    }
    this.depth = depth;
    if (!split()) {
      if (n === 0) return [];
      return [{ f64: input, slots: n, events: total, begin: input[1]! + offsetMs, end: t, frames: totalFrames, selfContained: startDepth === 0 && depth === 0 }];
    }
    if (depth === 0) {
      emit(segStart, n, segEvents, segFrames, segDepth, 0, t);
    } else {
      let from = segStart;
      const events = segEvents - (lastZero > segStart ? lastZeroEvents : 0);
      const frames = segFrames - (lastZero > segStart ? lastZeroFrames : 0);
      let fromDepth = segDepth;
      if (lastZero > segStart) {
        emit(segStart, lastZero, lastZeroEvents, lastZeroFrames, segDepth, 0, lastZeroT);
        from = lastZero;
        fromDepth = 0;
      }
      if (n - from > MAX_CARRY_SLOTS) {
        emit(from, n, events, frames, fromDepth, depth, t);
      } else {
        this.carry = input.slice(from, n);
        this.carryDepth = fromDepth;
        this.carryOffsetMs = offsetMs;
      }
    }
    return out;
  }

  /** slots waiting for the next batch */
  get carriedSlots(): number {
    return this.carry?.length ?? 0;
  }

  /** The records still waiting (a span open at shutdown), as a segment that is not self-contained. */
  takeCarry(): CpuSegment | undefined {
    const c = this.carry;
    if (c === undefined) return undefined;
    this.carry = undefined;
    let end = NaN;
    let events = 0;
    for (let p = 0; p < c.length; events++) {
      end = c[p + 1]! + this.carryOffsetMs;
      p += c[p]! % 8 <= END_THREAD ? THREAD_SPAN_SLOTS : ASYNC_SPAN_SLOTS;
    }
    // the stack stays as it was (this.depth): later records continue it
    return { f64: c, slots: c.length, events, begin: c[1]! + this.carryOffsetMs, end, frames: 0, selfContained: false };
  }
}
