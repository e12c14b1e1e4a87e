/**
 * `view_instance('thread_spans', stream_id)`: rebuilds the call tree of one thread from its begin/end
 * span events. Pure and synchronous; the lakehouse decides which blocks to feed and where rows go.
 *
 * Conventions (what a trace viewer user expects, and stable under incremental extension):
 * - `id` numbers spans from 1 in order of their begin within the stream; `parent` is the enclosing
 *   span's id, 0 at the root (no span has id 0); `depth` is 0 at the root.
 * - Blocks may come in any order: they are sorted by `begin_ticks` (blocks of one stream never overlap);
 *   a block_id given twice is read once.
 * - An end whose call site is not on top of the stack closes the innermost open span with that call site,
 *   and every span above it ends at the same time (their own ends were lost). An end that matches no
 *   open span (its begin precedes the data, or was lost) is dropped and counted.
 * - A span still open when the data runs out is, in the full view (`threadSpansRows`), closed at the last
 *   known time of the data: the latest event time or block `end_time`. With checkpoints
 *   (`extendThreadSpans`) open spans stay in the checkpoint with the id they already have, so a row
 *   produced later for the same span carries the same id, parent and depth.
 * - An end earlier than its begin (a clock anomaly) is clamped to the begin: durations are never negative.
 */
import type { ColumnSpec, RowBatch } from './row-batch.js';
import { CallSiteTable } from './span-hash.js';
import { nsPerTick, orderBlocks, type DecodedBlock, type SpanProcess } from './span-blocks.js';
import { SpanError } from './span-error.js';

export const THREAD_SPANS_COLUMNS: readonly ColumnSpec[] = [
  { name: 'id', type: 'BIGINT' },
  { name: 'parent', type: 'BIGINT' },
  { name: 'depth', type: 'UINTEGER' },
  { name: 'hash', type: 'UBIGINT' },
  { name: 'begin', type: 'TIMESTAMP_NS' },
  { name: 'end', type: 'TIMESTAMP_NS' },
  { name: 'duration', type: 'BIGINT' },
  { name: 'name', type: 'VARCHAR' },
  { name: 'target', type: 'VARCHAR' },
  { name: 'filename', type: 'VARCHAR' },
  { name: 'line', type: 'UINTEGER' },
];

/** A span begun but not yet ended at a checkpoint; its depth is its index in `open`. */
export interface OpenThreadSpan {
  id: number;
  /** nanoseconds since the Unix epoch */
  begin: bigint;
  name: string;
  target: string;
  filename: string;
  line: number;
}

/** Everything needed to continue a stream's call tree from where the previous blocks left it. */
export interface ThreadSpansCheckpoint {
  stream_id: string | null;
  /** id the next span will get */
  next_id: number;
  /** `end_ticks` of the last block consumed; later blocks must not begin before it */
  end_ticks: bigint | null;
  /** latest known time of the data (ns since epoch), where open spans are provisionally closed */
  last_time: bigint | null;
  /** the open stack, root first */
  open: OpenThreadSpan[];
}

export interface ThreadSpansStats {
  /** ends dropped because no open span had their call site */
  unmatched_ends: number;
  /** spans ended by the end of an enclosing span (their own end was lost) */
  implicitly_closed: number;
  /** spans closed at the last known time because the data ran out (full view only) */
  closed_at_end: number;
}

export interface ThreadSpansExtension {
  /** the spans that ended within the given blocks (and open spans, when closing), sorted by id */
  rows: RowBatch;
  checkpoint: ThreadSpansCheckpoint;
  stats: ThreadSpansStats;
}

/** The empty starting point of a stream. */
export function emptyThreadSpansCheckpoint(): ThreadSpansCheckpoint {
  return { stream_id: null, next_id: 1, end_ticks: null, last_time: null, open: [] };
}

/**
 * All spans of a stream, still-open ones closed at the last known time.
 *
 * @example
 * const rows = threadSpansRows(blocks.map((b) => decodeBlock(b, codecs)), process);
 * rows.values[7] // names, one per span, in begin order
 */
export function threadSpansRows(blocks: readonly DecodedBlock[], process: SpanProcess): RowBatch {
  return convert(emptyThreadSpansCheckpoint(), blocks, nsPerTick(process), true).rows;
}

/**
 * Continues a stream from `checkpoint` (null: from its start) with the next blocks, returning the rows
 * of the spans that ended in them and the new checkpoint. Feeding a stream's blocks in several calls
 * yields the same rows, ids included, as one call.
 *
 * @example
 * let cp = null;
 * for (const batch of batches) { const r = extendThreadSpans(cp, batch, process); write(r.rows); cp = r.checkpoint; }
 */
export function extendThreadSpans(
  checkpoint: ThreadSpansCheckpoint | null,
  blocks: readonly DecodedBlock[],
  process: SpanProcess,
): ThreadSpansExtension {
  return convert(checkpoint ?? emptyThreadSpansCheckpoint(), blocks, nsPerTick(process), false);
}

/**
 * Provisional rows for the spans open at a checkpoint, ended at its `last_time`: what a just-in-time
 * view shows for a frame still running. The checkpoint itself is unchanged.
 */
export function openThreadSpansRows(checkpoint: ThreadSpansCheckpoint): RowBatch {
  return convert(checkpoint, [], 1, true).rows;
}

function validateCheckpoint(cp: ThreadSpansCheckpoint): void {
  if (!Number.isSafeInteger(cp.next_id) || cp.next_id < 1) {
    throw new SpanError('invalid_checkpoint', `next_id must be a positive safe integer, got ${String(cp.next_id)}`);
  }
  let prev = 0;
  for (const s of cp.open) {
    if (!Number.isSafeInteger(s.id) || s.id <= prev || s.id >= cp.next_id) {
      throw new SpanError('invalid_checkpoint', `open span ids must increase from the root and be below next_id`);
    }
    prev = s.id;
  }
  if (cp.open.length > 0 && cp.last_time === null) {
    throw new SpanError('invalid_checkpoint', 'a checkpoint with open spans needs last_time');
  }
}

function convert(
  cp: ThreadSpansCheckpoint,
  blocks: readonly DecodedBlock[],
  factor: number,
  closeOpen: boolean,
): ThreadSpansExtension {
  validateCheckpoint(cp);
  const ordered = orderBlocks(blocks);
  let streamId = cp.stream_id;
  for (const b of ordered) {
    if (streamId === null) streamId = b.meta.stream_id;
    else if (b.meta.stream_id !== streamId) {
      throw new SpanError('mixed_streams', `blocks of streams ${streamId} and ${b.meta.stream_id} given together`);
    }
  }
  const first = ordered[0];
  if (first !== undefined && cp.end_ticks !== null && first.meta.begin_ticks < cp.end_ticks) {
    throw new SpanError(
      'block_before_checkpoint',
      `block ${first.meta.block_id} begins at tick ${first.meta.begin_ticks}, before the checkpoint's ${cp.end_ticks}`,
    );
  }
  const base = first?.meta.begin_time ?? cp.last_time ?? 0n;

  let nBegins = 0;
  for (const b of ordered) for (const ev of b.events) if (ev.kind === 'begin_thread_span') nBegins++;
  const inherited = cp.open.length;
  const cap = inherited + nBegins;
  const ids = new Float64Array(cap);
  /** slot of the enclosing span, -1 at the root: rows reuse the parent's id bigint instead of allocating one */
  const parentSlot = new Int32Array(cap);
  const depths = new Uint32Array(cap);
  const beginT = new Float64Array(cap);
  const endT = new Float64Array(cap);
  const siteOf = new Int32Array(cap);
  const closed = new Uint8Array(cap);
  const stack = new Int32Array(cap);
  const table = new CallSiteTable();
  const sites = table.sites;
  const stats: ThreadSpansStats = { unmatched_ends: 0, implicitly_closed: 0, closed_at_end: 0 };

  let sp = 0;
  for (let i = 0; i < inherited; i++) {
    const s = cp.open[i]!;
    ids[i] = s.id;
    parentSlot[i] = i - 1;
    depths[i] = i;
    beginT[i] = Number(s.begin - base);
    siteOf[i] = table.intern(s.name, s.target, s.filename, s.line);
    stack[sp++] = i;
  }
  let nextSlot = inherited;
  let nextId = cp.next_id;
  let lastT = cp.last_time === null ? -Infinity : Number(cp.last_time - base);

  const close = (slot: number, t: number): void => {
    endT[slot] = t < beginT[slot]! ? beginT[slot]! : t;
    closed[slot] = 1;
  };

  for (const block of ordered) {
    const blockOff = Number(block.meta.begin_time - base);
    const events = block.events;
    for (let e = 0; e < events.length; e++) {
      const ev = events[e]!;
      if (ev.kind === 'begin_thread_span') {
        const t = blockOff + Math.round(ev.ticks * factor);
        const slot = nextSlot++;
        ids[slot] = nextId++;
        parentSlot[slot] = sp > 0 ? stack[sp - 1]! : -1;
        depths[slot] = sp;
        beginT[slot] = t;
        siteOf[slot] = table.intern(ev.name, ev.target, ev.filename, ev.line);
        stack[sp++] = slot;
        if (t > lastT) lastT = t;
      } else if (ev.kind === 'end_thread_span') {
        const t = blockOff + Math.round(ev.ticks * factor);
        if (t > lastT) lastT = t;
        let k = sp - 1;
        for (; k >= 0; k--) {
          const s = sites[siteOf[stack[k]!]!]!;
          if (s.name === ev.name && s.line === ev.line && s.filename === ev.filename && s.target === ev.target) break;
        }
        if (k < 0) {
          stats.unmatched_ends++;
          continue;
        }
        stats.implicitly_closed += sp - 1 - k;
        while (sp > k) close(stack[--sp]!, t);
      }
    }
    const blockEnd = Number(block.meta.end_time - base);
    if (blockEnd > lastT) lastT = blockEnd;
  }

  const open: OpenThreadSpan[] = [];
  for (let i = 0; i < sp; i++) {
    const slot = stack[i]!;
    const s = sites[siteOf[slot]!]!;
    open.push({ id: ids[slot]!, begin: base + BigInt(beginT[slot]!), name: s.name, target: s.target, filename: s.filename, line: s.line });
  }
  if (closeOpen) {
    stats.closed_at_end = sp;
    for (let i = 0; i < sp; i++) close(stack[i]!, lastT);
  }

  const lastBlock = ordered[ordered.length - 1];
  const checkpoint: ThreadSpansCheckpoint = {
    stream_id: streamId,
    next_id: nextId,
    end_ticks: lastBlock?.meta.end_ticks ?? cp.end_ticks,
    last_time: Number.isFinite(lastT) ? base + BigInt(lastT) : cp.last_time,
    open,
  };
  return { rows: buildRows(nextSlot, closed, ids, parentSlot, depths, beginT, endT, siteOf, table, base), checkpoint, stats };
}

function buildRows(
  nSlots: number,
  closed: Uint8Array,
  ids: Float64Array,
  parentSlot: Int32Array,
  depths: Uint32Array,
  beginT: Float64Array,
  endT: Float64Array,
  siteOf: Int32Array,
  table: CallSiteTable,
  base: bigint,
): RowBatch {
  let n = 0;
  for (let i = 0; i < nSlots; i++) n += closed[i]!;
  // Filled by appending: `new Array(n)` for large n makes V8 use slow dictionary elements.
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
  const sites = table.sites;
  // Ids of every slot, allocated once: a parent's id is shared by all its children's rows.
  const idOf: bigint[] = [];
  for (let i = 0; i < nSlots; i++) idOf[i] = BigInt(ids[i]!);
  let r = 0;
  for (let i = 0; i < nSlots; i++) {
    if (closed[i] === 0) continue;
    const s = sites[siteOf[i]!]!;
    const b = beginT[i]!;
    const e = endT[i]!;
    const ps = parentSlot[i]!;
    id[r] = idOf[i]!;
    parent[r] = ps < 0 ? 0n : idOf[ps]!;
    depth[r] = depths[i]!;
    hash[r] = s.hash;
    begin[r] = base + BigInt(b);
    end[r] = base + BigInt(e);
    duration[r] = BigInt(e - b);
    name[r] = s.name;
    target[r] = s.target;
    filename[r] = s.filename;
    line[r] = s.line;
    r++;
  }
  return {
    columns: THREAD_SPANS_COLUMNS,
    values: [id, parent, depth, hash, begin, end, duration, name, target, filename, line],
    length: n,
  };
}
