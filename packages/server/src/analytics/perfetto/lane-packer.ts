/**
 * Streaming placement of slices on Perfetto tracks ("lanes"). Perfetto nests the slices of one track by
 * time, so every lane must hold a properly nested set. A thread's spans are nested by construction and use
 * one lane; async spans overlap freely and are spread over as few lanes as keep each one nested.
 *
 * Spans arrive in begin order, possibly before their end is known (an async span whose end event lies in
 * a later part of the range). A span with an unknown end only goes on an empty lane: nothing can be placed
 * under it safely. A span with a known end nests above an open span whose end is still unknown, because
 * that end lies past every time seen so far. `flush(t)` closes the slices that ended before `t`, so events
 * can be written out as soon as no later input can precede them: memory holds the open spans, not the range.
 */
import type { SliceInfo } from './slice-info.js';

export interface LaneSpan {
  begin: bigint;
  /** undefined while the end is not known yet (set it once known, before the next placement or flush) */
  end: bigint | undefined;
  depth: number;
  info: SliceInfo;
  /** the lane of the parent, when the parent is still open there; -1 for none */
  preferredLane: number;
  /** set by `place` */
  lane: number;
}

export interface LaneEvent {
  ts: bigint;
  begin: boolean;
  info: SliceInfo;
}

export class LanePacker {
  private readonly stacks: LaneSpan[][] = [];
  /** events per lane not handed out yet, each list in time order */
  private readonly pending: LaneEvent[][] = [];

  constructor(private readonly multiLane: boolean) {}

  get lanes(): number {
    return this.stacks.length;
  }

  /** Places `s` (spans in begin order, outer before inner on ties) and returns its lane. */
  place(s: LaneSpan): number {
    let lane = -1;
    if (!this.multiLane) {
      if (this.stacks.length === 0) this.addLane();
      this.fits(0, s);
      lane = 0;
    } else {
      const preferred = s.preferredLane;
      if (preferred >= 0 && preferred < this.stacks.length && this.fits(preferred, s)) lane = preferred;
      for (let l = 0; lane < 0 && l < this.stacks.length; l++) if (l !== preferred && this.fits(l, s)) lane = l;
      if (lane < 0) lane = this.addLane();
    }
    s.lane = lane;
    this.stacks[lane]!.push(s);
    this.pending[lane]!.push({ ts: s.begin, begin: true, info: s.info });
    return lane;
  }

  /** Ends every slice whose end is known and before `t` (all of them, unknown ends at `lastTime`, when `t` is undefined). */
  flush(t: bigint | undefined, lastTime = 0n): void {
    for (let lane = 0; lane < this.stacks.length; lane++) {
      const stack = this.stacks[lane]!;
      for (;;) {
        const top = stack[stack.length - 1];
        if (top === undefined) break;
        if (t !== undefined && (top.end === undefined || top.end >= t)) break;
        stack.pop();
        const end = top.end ?? (lastTime > top.begin ? lastTime : top.begin);
        this.pending[lane]!.push({ ts: end, begin: false, info: top.info });
      }
    }
  }

  /** Hands out the events gathered so far, lane by lane (each lane's list in time order). */
  take(): LaneEvent[][] {
    const out = this.pending.map((events) => events.splice(0));
    return out;
  }

  /** open spans on the lanes */
  get open(): number {
    let n = 0;
    for (const s of this.stacks) n += s.length;
    return n;
  }

  private addLane(): number {
    this.stacks.push([]);
    this.pending.push([]);
    return this.stacks.length - 1;
  }

  /** Whether `s` nests on `lane` now, after closing the slices there that end before it begins. */
  private fits(lane: number, s: LaneSpan): boolean {
    const stack = this.stacks[lane]!;
    for (;;) {
      const top = stack[stack.length - 1];
      if (top === undefined) return true;
      if (encloses(top, s)) return true;
      const topOpen = top.end === undefined || top.end > s.begin;
      if (topOpen && this.multiLane) return false;
      stack.pop();
      // a thread slice overlapping its next sibling (not produced by thread_spans) is cut where the sibling
      // begins, so the track stays nested and in time order
      const end = top.end === undefined || top.end > s.begin ? s.begin : top.end;
      this.pending[lane]!.push({ ts: end, begin: false, info: top.info });
    }
  }
}

function encloses(t: LaneSpan, s: LaneSpan): boolean {
  if (t.begin > s.begin || t.depth >= s.depth) return false;
  // a span of unknown end may hold only spans whose end is known: those end before any time not seen yet
  if (t.end === undefined) return s.end !== undefined;
  if (s.end === undefined || s.end > t.end) return false;
  return t.end > s.begin || s.end === s.begin;
}
