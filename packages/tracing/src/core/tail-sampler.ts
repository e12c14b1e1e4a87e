/**
 * The window of tail sampling: cpu blocks wait here until `windowMs` after their last event (or until the
 * window holds more than its byte bound, oldest first), then the policy decides whether each is uploaded.
 * Bytes are whatever the caller says a block weighs (the sender: its raw records). A thread's blocks are
 * decided in the order they were held, so the caller can tell which kept ones follow each other.
 * Frames and marks (error logs, keepTrace) are remembered only as long as a waiting or future block can
 * need them, so memory stays bounded when nothing is ever kept. Time is the caller's (ms, process clock),
 * which makes the window deterministic in tests.
 */
import type { FrameInfo, SampledBlock, SamplingContext, SamplingMark, SamplingPolicy } from './sampling-policy.js';
import type { SamplingSettings } from './sampling-settings.js';

/** frames remembered per thread at most, whatever the window says */
const MAX_FRAMES = 1 << 16;
const MAX_MARKS = 1 << 14;

export interface SamplerDecision<T> {
  kept: T[];
  discarded: T[];
  keptBytes: number;
  discardedBytes: number;
}

interface Held<T> {
  block: SampledBlock;
  item: T;
  /** kept whatever the policy says (a block that is not self-contained) */
  force: boolean;
}

export class TailSampler<T> {
  private held: Held<T>[] = [];
  private bytes = 0;
  private readonly frames = new Map<string, FrameInfo[]>();
  private marks: SamplingMark[] = [];
  /** latest event time seen, ms */
  private latest = -Infinity;
  private readonly context: SamplingContext;
  /** policy calls that threw (their block was kept) */
  policyErrors = 0;

  constructor(
    readonly settings: SamplingSettings,
    private readonly policy: SamplingPolicy,
    readonly maxWindowBytes: number,
    random: () => number = Math.random,
  ) {
    this.context = { frames: this.frames, marks: this.marks, settings, random };
  }

  /** any frame seen yet: until then a program is not a frame loop and nothing is sampled */
  get engaged(): boolean {
    return this.framed;
  }
  private framed = false;

  get heldBytes(): number {
    return this.bytes;
  }

  get heldBlocks(): number {
    return this.held.length;
  }

  /** frames and marks remembered (for the memory bound) */
  get remembered(): number {
    let n = this.marks.length;
    for (const f of this.frames.values()) n += f.length;
    return n;
  }

  addFrame(thread: string, frame: FrameInfo): void {
    this.framed = true;
    let list = this.frames.get(thread);
    if (list === undefined) this.frames.set(thread, (list = []));
    list.push(frame);
    if (list.length > MAX_FRAMES) list.splice(0, list.length - MAX_FRAMES);
    if (frame.end > this.latest) this.latest = frame.end;
  }

  addMark(mark: SamplingMark): void {
    this.marks.push(mark);
    if (this.marks.length > MAX_MARKS) this.marks.splice(0, this.marks.length - MAX_MARKS);
  }

  hold(block: SampledBlock, item: T, force = false): void {
    this.held.push({ block, item, force });
    this.bytes += block.bytes;
    if (block.end > this.latest) this.latest = block.end;
  }

  /**
   * Decides every block whose window has passed at `nowMs` (all of them for `Infinity`), then the oldest
   * while the window holds more than `maxWindowBytes`. Kept items come out in the order they were held.
   */
  decide(nowMs: number): SamplerDecision<T> {
    const out: SamplerDecision<T> = { kept: [], discarded: [], keptBytes: 0, discardedBytes: 0 };
    const due = nowMs - this.settings.windowMs;
    const waiting: Held<T>[] = [];
    let over = this.bytes - this.maxWindowBytes;
    for (const h of this.held) {
      if (h.block.end <= due || over > 0) {
        if (over > 0 && h.block.end > due) over -= h.block.bytes;
        this.bytes -= h.block.bytes;
        if (h.force || this.keeps(h.block)) {
          out.kept.push(h.item);
          out.keptBytes += h.block.bytes;
        } else {
          out.discarded.push(h.item);
          out.discardedBytes += h.block.bytes;
        }
      } else {
        waiting.push(h);
      }
    }
    this.held = waiting;
    this.forget(nowMs);
    return out;
  }

  private keeps(block: SampledBlock): boolean {
    try {
      return this.policy(block, this.context) === true;
    } catch {
      this.policyErrors++;
      return true;
    }
  }

  /** drops frames and marks no waiting or future block can need */
  private forget(nowMs: number): void {
    const { windowMs, framesBefore } = this.settings;
    let oldest = Math.min(nowMs, this.latest) - windowMs;
    for (const h of this.held) if (h.block.begin < oldest) oldest = h.block.begin;
    const cutoff = oldest - windowMs;
    for (const [thread, list] of this.frames) {
      let i = 0;
      while (i < list.length && list[i]!.end < cutoff) i++;
      const drop = i - framesBefore - 1;
      if (drop > 0) list.splice(0, drop);
      if (list.length === 0) this.frames.delete(thread);
    }
    let m = 0;
    while (m < this.marks.length && this.marks[m]!.time < cutoff) m++;
    if (m > 0) this.marks.splice(0, m);
  }
}
