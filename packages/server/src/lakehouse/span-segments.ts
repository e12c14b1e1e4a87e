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
import type { TransitColumns } from '@sirius/transit';
import type { RowBatch } from './row-batch.js';
import { CallSiteTable } from './span-hash.js';
import { nsPerTick, type SpanProcess } from './span-blocks.js';
import { SpanTableBuilder, type SpanTable } from './span-table.js';
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

/** A block of a stream as the replay reads it: its bounds and its decoded columns (null: unreadable, skipped). */
export interface SpanBlock {
  block_id: string;
  begin_time: bigint;
  begin_ticks: bigint;
  end_time: bigint;
  columns: TransitColumns | null;
}

export interface ThreadSegmentRows {
  /** spans beginning in the segment, sorted by begin */
  owned: SpanTable;
  /** spans begun before the segment and still open at its start (their end ≥ its start), sorted by begin */
  open: SpanTable;
}

/** Blocks in stream order (begin_ticks, then block id), each block id once (a retried upload is read once). */
export function orderSpanBlocks<T extends { block_id: string; begin_ticks: bigint }>(blocks: readonly T[]): T[] {
  const seen = new Set<string>();
  const out = blocks.filter((b) => (seen.has(b.block_id) ? false : (seen.add(b.block_id), true)));
  return out.sort((a, b) => (a.begin_ticks !== b.begin_ticks ? (a.begin_ticks < b.begin_ticks ? -1 : 1) : a.block_id < b.block_id ? -1 : a.block_id > b.block_id ? 1 : 0));
}

/**
 * Replays one stream's blocks for a segment. `before` holds the blocks beginning before `seg.end` (lookback and
 * the segment itself); `more()` hands out the next later blocks (lookahead), in stream order, and an empty list
 * once there are none: it is called only while a span of interest is still open.
 */
export async function threadSegmentRows(
  before: readonly SpanBlock[],
  more: () => Promise<readonly SpanBlock[]>,
  seg: TimeRange,
  process: SpanProcess,
): Promise<ThreadSegmentRows> {
  const replay = new SegmentReplay(nsPerTick(process), seg);
  for (const b of orderSpanBlocks(before)) replay.feed(b);
  while (replay.waitsForEnds()) {
    const next = await more();
    if (next.length === 0) break;
    for (const b of orderSpanBlocks(next)) replay.feed(b);
  }
  return replay.finish();
}

/** Grows a typed array by doubling. */
function grow<T extends Int32Array | Float64Array | Uint8Array>(a: T, need: number): T {
  if (need <= a.length) return a;
  const b = new (a.constructor as new (n: number) => T)(Math.max(need, a.length * 2));
  b.set(a);
  return b;
}

/** The forward replay; times are float64 ns relative to the segment's begin (see span-blocks.ts). */
class SegmentReplay {
  private readonly table = new CallSiteTable();
  private readonly seen = new Set<string>();
  private n = 0;
  private idHi = new Int32Array(1024);
  private idLo = new Int32Array(1024);
  private parentSlot = new Int32Array(1024);
  private depth = new Int32Array(1024);
  private beginT = new Float64Array(1024);
  private endT = new Float64Array(1024);
  private site = new Int32Array(1024);
  private stack = new Int32Array(256);
  private sp = 0;
  private lastT = -Infinity;
  private readonly segEnd: number;

  constructor(
    private readonly factor: number,
    private readonly seg: TimeRange,
  ) {
    this.segEnd = Number(seg.end - seg.begin);
  }

  feed(block: SpanBlock): void {
    if (this.seen.has(block.block_id)) return;
    this.seen.add(block.block_id);
    const off = Number(block.begin_time - this.seg.begin);
    const blockEnd = Number(block.end_time - this.seg.begin);
    const c = block.columns?.threadSpans;
    if (c && c.count > 0) {
      const tables = block.columns!.tables;
      // the block's span descriptors as call sites of the replay
      const siteOfDesc = new Int32Array(tables.spanName.length).fill(-1);
      const base = blockIdBase(block.block_id);
      const top = Number(base >> 22n); // 41 bits
      const hi = Math.floor(top / 1024);
      const loBase = (top % 1024) * 4194304;
      const need = this.n + c.count;
      this.idHi = grow(this.idHi, need);
      this.idLo = grow(this.idLo, need);
      this.parentSlot = grow(this.parentSlot, need);
      this.depth = grow(this.depth, need);
      this.beginT = grow(this.beginT, need);
      this.endT = grow(this.endT, need);
      this.site = grow(this.site, need);
      const { ticks, begin, desc } = c;
      const factor = this.factor;
      for (let e = 0; e < c.count; e++) {
        const d = desc[e]!;
        let g = siteOfDesc[d]!;
        if (g < 0) {
          const str = tables.strings;
          g = siteOfDesc[d] = this.table.intern(str[tables.spanName[d]!]!, str[tables.spanTarget[d]!]!, str[tables.spanFilename[d]!]!, tables.spanLine[d]!);
        }
        const t = off + Math.round(ticks[e]! * factor);
        if (t > this.lastT) this.lastT = t;
        if (begin[e] === 1) {
          const slot = this.n++;
          this.idHi[slot] = hi;
          this.idLo[slot] = (loBase + e) | 0;
          this.parentSlot[slot] = this.sp > 0 ? this.stack[this.sp - 1]! : -1;
          this.depth[slot] = this.sp;
          this.beginT[slot] = t;
          this.endT[slot] = t;
          this.site[slot] = g;
          if (this.sp === this.stack.length) this.stack = grow(this.stack, this.sp + 1);
          this.stack[this.sp++] = slot;
        } else {
          let k = this.sp - 1;
          for (; k >= 0; k--) if (this.site[this.stack[k]!] === g) break;
          if (k < 0) continue; // its begin is before the replay, or was lost
          while (this.sp > k) this.close(this.stack[--this.sp]!, t);
        }
      }
    }
    if (blockEnd > this.lastT) this.lastT = blockEnd;
  }

  /** whether a span begun before the segment's end is still open (the stack is ordered by begin) */
  waitsForEnds(): boolean {
    return this.sp > 0 && this.beginT[this.stack[0]!]! < this.segEnd;
  }

  private close(slot: number, t: number): void {
    this.endT[slot] = t < this.beginT[slot]! ? this.beginT[slot]! : t;
  }

  finish(): ThreadSegmentRows {
    while (this.sp > 0) this.close(this.stack[--this.sp]!, this.lastT);
    const owned = new SpanTableBuilder(this.seg.begin, this.table.sites);
    const open = new SpanTableBuilder(this.seg.begin, this.table.sites);
    // slots are in begin order already (events replayed in stream order)
    for (let slot = 0; slot < this.n; slot++) {
      const b = this.beginT[slot]!;
      const into = b >= 0 && b < this.segEnd ? owned : b < 0 && this.endT[slot]! >= 0 ? open : null;
      if (!into) continue;
      const ps = this.parentSlot[slot]!;
      into.push(
        this.idHi[slot]!, this.idLo[slot]!,
        ps < 0 ? 0 : this.idHi[ps]!, ps < 0 ? 0 : this.idLo[ps]!,
        this.depth[slot]!, b, this.endT[slot]!, this.site[slot]!,
      );
    }
    return { owned: owned.finish(), open: open.finish() };
  }
}

/** Keeps the rows of `batch` at the given indices. */
export function pickRows(batch: RowBatch, keep: readonly number[]): RowBatch {
  if (keep.length === batch.length) return batch;
  return { columns: batch.columns, values: batch.values.map((col) => keep.map((i) => col[i])), length: keep.length };
}
