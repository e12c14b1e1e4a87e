/**
 * Thread spans of one event-time segment of a stream, built from the blocks around it rather than from the
 * stream's whole history, so the first query of one minute of an hour-long stream decodes about a minute.
 *
 * A segment [s, e) owns the spans that BEGIN inside it. Its rows come from a forward replay of the blocks
 * overlapping [s - SPAN_REACH, e + SPAN_REACH): the blocks before s rebuild the stack of spans open at s (so
 * spans under them get their true depth and parent), the blocks after e give the ends of spans still open at e
 * (they are decoded only while such a span remains open). The replay also yields the spans open at s, begun
 * before it: they are owned by earlier segments, and a query whose range starts in this segment reads them from
 * a second, separate output (`open`), so a span crossing the range's start appears exactly once.
 *
 * The replay follows the full view's rules (thread-spans.ts): an end closes the innermost open span with its
 * call site and every span above it; an end matching nothing is dropped; a span still open when the replayed
 * data runs out is closed at the latest time known. What a segment cannot see: a span begun more than
 * SPAN_REACH before s that is still open at s (its descendants count their depth from the oldest ancestor seen,
 * parent 0 at that level), and a span lasting past e + SPAN_REACH (closed at the last time replayed).
 *
 * `id` is derived from where the span begins: a 41-bit digest of the block id (top bit set, so never 0) and
 * the begin event's index in the block (22 bits, the block format's event limit). It is the same in every
 * segment and every rebuild, and unique within a stream unless two block ids of the stream share a digest
 * (about 1 in 10^4 for a day-long stream of one-second blocks).
 */
import type { RowBatch } from './row-batch.js';
import { CallSiteTable } from './span-hash.js';
import { nsPerTick, orderBlocks, type DecodedBlock, type SpanProcess } from './span-blocks.js';
import { THREAD_SPANS_COLUMNS } from './thread-spans.js';
import type { TimeRange } from './lakehouse.js';

/** length of a span segment: one minute of event time */
export const SPAN_SEGMENT = 60_000_000_000n;
/** how far before and after its segment a segment's replay reads */
export const SPAN_REACH = 10_000_000_000n;

/** The segment holding `t`. */
export function spanSegmentOf(t: bigint): TimeRange {
  const begin = t - (((t % SPAN_SEGMENT) + SPAN_SEGMENT) % SPAN_SEGMENT);
  return { begin, end: begin + SPAN_SEGMENT };
}

/** The event-time window whose blocks a segment's replay may read. */
export function spanWindow(seg: TimeRange): TimeRange {
  return { begin: seg.begin - SPAN_REACH, end: seg.end + SPAN_REACH };
}

/** 41-bit digest of a block id with its top bit set: the high part of the ids of the spans it begins. */
export function blockIdBase(blockId: string): bigint {
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c;
  for (let i = 0; i < blockId.length; i++) {
    const c = blockId.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  // 32 bits of h1 and 8 of h2, plus the top bit
  const digest = (BigInt(h2 & 0xff) << 32n) | BigInt(h1);
  return ((1n << 40n) | digest) << 22n;
}

/** The id of the span begun by event `index` of the block whose `blockIdBase` is `base`. */
export function spanId(base: bigint, index: number): bigint {
  return base | BigInt(index);
}

export interface ThreadSegmentRows {
  /** spans beginning in the segment, sorted by begin */
  owned: RowBatch;
  /** spans begun before the segment and still open at its start (their end ≥ its start), sorted by begin */
  open: RowBatch;
}

/**
 * Replays one stream's blocks for a segment. `before` holds the decoded blocks beginning before `seg.end`
 * (lookback and the segment itself); `more()` hands out the next later blocks (lookahead), in stream order, and
 * an empty list once there are none: it is called only while a span of interest is still open.
 */
export async function threadSegmentRows(
  before: readonly DecodedBlock[],
  more: () => Promise<readonly DecodedBlock[]>,
  seg: TimeRange,
  process: SpanProcess,
): Promise<ThreadSegmentRows> {
  const replay = new SegmentReplay(nsPerTick(process), seg);
  for (const b of orderBlocks(before)) replay.feed(b);
  while (replay.waitsForEnds()) {
    const next = await more();
    if (next.length === 0) break;
    for (const b of orderBlocks(next)) replay.feed(b);
  }
  return replay.finish();
}

/** The forward replay; times are float64 ns relative to the segment's begin (see span-blocks.ts). */
class SegmentReplay {
  private readonly table = new CallSiteTable();
  private readonly seen = new Set<string>();
  private idBase: bigint[] = [];
  private idIndex: number[] = [];
  private parentSlot: number[] = [];
  private depth: number[] = [];
  private beginT: number[] = [];
  private endT: number[] = [];
  private site: number[] = [];
  private closed: number[] = [];
  private stack: number[] = [];
  private lastT = -Infinity;
  private readonly segEnd: number;

  constructor(
    private readonly factor: number,
    private readonly seg: TimeRange,
  ) {
    this.segEnd = Number(seg.end - seg.begin);
  }

  feed(block: DecodedBlock): void {
    if (this.seen.has(block.meta.block_id)) return;
    this.seen.add(block.meta.block_id);
    const base = blockIdBase(block.meta.block_id);
    const off = Number(block.meta.begin_time - this.seg.begin);
    const sites = this.table.sites;
    const stack = this.stack;
    const events = block.events;
    for (let e = 0; e < events.length; e++) {
      const ev = events[e]!;
      if (ev.kind === 'begin_thread_span') {
        const t = off + Math.round(ev.ticks * this.factor);
        const slot = this.beginT.length;
        this.idBase.push(base);
        this.idIndex.push(e);
        this.parentSlot.push(stack.length > 0 ? stack[stack.length - 1]! : -1);
        this.depth.push(stack.length);
        this.beginT.push(t);
        this.endT.push(t);
        this.site.push(this.table.intern(ev.name, ev.target, ev.filename, ev.line));
        this.closed.push(0);
        stack.push(slot);
        if (t > this.lastT) this.lastT = t;
      } else if (ev.kind === 'end_thread_span') {
        const t = off + Math.round(ev.ticks * this.factor);
        if (t > this.lastT) this.lastT = t;
        let k = stack.length - 1;
        for (; k >= 0; k--) {
          const s = sites[this.site[stack[k]!]!]!;
          if (s.name === ev.name && s.line === ev.line && s.filename === ev.filename && s.target === ev.target) break;
        }
        if (k < 0) continue; // its begin is before the replay, or was lost
        while (stack.length > k) this.close(stack.pop()!, t);
      }
    }
    const blockEnd = Number(block.meta.end_time - this.seg.begin);
    if (blockEnd > this.lastT) this.lastT = blockEnd;
  }

  /** whether a span begun before the segment's end is still open (the stack is ordered by begin) */
  waitsForEnds(): boolean {
    return this.stack.length > 0 && this.beginT[this.stack[0]!]! < this.segEnd;
  }

  private close(slot: number, t: number): void {
    this.endT[slot] = t < this.beginT[slot]! ? this.beginT[slot]! : t;
    this.closed[slot] = 1;
  }

  finish(): ThreadSegmentRows {
    while (this.stack.length > 0) this.close(this.stack.pop()!, this.lastT);
    const owned: number[] = [];
    const open: number[] = [];
    for (let slot = 0; slot < this.beginT.length; slot++) {
      const b = this.beginT[slot]!;
      if (b >= 0 && b < this.segEnd) owned.push(slot);
      else if (b < 0 && this.endT[slot]! >= 0) open.push(slot);
    }
    return { owned: this.rows(owned), open: this.rows(open) };
  }

  private rows(slots: number[]): RowBatch {
    slots.sort((a, b) => this.beginT[a]! - this.beginT[b]! || a - b);
    const id: bigint[] = [];
    const parent: bigint[] = [];
    const depth: number[] = [];
    const hash: bigint[] = [];
    const begin: bigint[] = [];
    const end: bigint[] = [];
    const duration: bigint[] = [];
    const name: string[] = [];
    const target: string[] = [];
    const filename: string[] = [];
    const line: number[] = [];
    const sites = this.table.sites;
    const origin = this.seg.begin;
    for (const slot of slots) {
      const s = sites[this.site[slot]!]!;
      const b = this.beginT[slot]!;
      const e = this.endT[slot]!;
      const ps = this.parentSlot[slot]!;
      id.push(spanId(this.idBase[slot]!, this.idIndex[slot]!));
      parent.push(ps < 0 ? 0n : spanId(this.idBase[ps]!, this.idIndex[ps]!));
      depth.push(this.depth[slot]!);
      hash.push(s.hash);
      begin.push(origin + BigInt(b));
      end.push(origin + BigInt(e));
      duration.push(BigInt(e - b));
      name.push(s.name);
      target.push(s.target);
      filename.push(s.filename);
      line.push(s.line);
    }
    return { columns: THREAD_SPANS_COLUMNS, values: [id, parent, depth, hash, begin, end, duration, name, target, filename, line], length: slots.length };
  }
}

/** Keeps the rows of `batch` at the given indices. */
export function pickRows(batch: RowBatch, keep: readonly number[]): RowBatch {
  if (keep.length === batch.length) return batch;
  return { columns: batch.columns, values: batch.values.map((col) => keep.map((i) => col[i])), length: keep.length };
}
