/**
 * Time order for the direct Parquet writer. Rows arrive as runs that are each mostly ascending (one block's
 * events, or one metric kind within a block), so a natural merge sort — find the ascending runs, merge them
 * pairwise — sorts them in a few passes. The merge is stable: ties keep their staged order, which is the
 * order DuckDB's `ORDER BY time` sees the rows in (it does not promise any order among ties).
 *
 * `reorder` then applies the permutation to the staged columns, so the page encoders only ever walk rows in
 * order.
 *
 * @example
 *   const perm = timeOrder(timePairs); // null when already ascending
 *   if (perm) staged = reorder(staged, perm);
 */
import { gatherMessages } from '@sirius/transit';
import type { StagedRows } from './staging-block-columns.js';
import type { MapEntries, StagingColumn, StagingIndices } from './staging-parquet.js';

/** `a` before or equal `b`, as signed int64 (lo, hi) pairs at row indices. */
export function timeLe(t: Int32Array, a: number, b: number): boolean {
  const ha = t[2 * a + 1]!;
  const hb = t[2 * b + 1]!;
  return ha < hb || (ha === hb && t[2 * a]! >>> 0 <= t[2 * b]! >>> 0);
}

/** The index of the first value above `x` in ascending `sorted` (its length if none is). */
export function firstAbove(sorted: Int32Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Whether the (lo, hi) times of rows [from, to) ascend: true for one stream's consecutive blocks, the common batch. */
export function timesAscend(time: Int32Array, from = 0, to = time.length / 2): boolean {
  for (let i = from + 1; i < to; i++) if (!timeLe(time, i - 1, i)) return false;
  return true;
}

/**
 * Times as exact doubles relative to the earliest high word, when the batch spans less than ~104 days
 * (2^53 ns): comparing doubles is much cheaper than comparing (lo, hi) pairs. Null when it spans more.
 */
function relativeKeys(time: Int32Array): Float64Array | null {
  const n = time.length / 2;
  let minH = Infinity;
  let maxH = -Infinity;
  for (let i = 0; i < n; i++) {
    const h = time[2 * i + 1]!;
    if (h < minH) minH = h;
    if (h > maxH) maxH = h;
  }
  if (n === 0 || maxH - minH >= 2 ** 20) return null;
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = (time[2 * i + 1]! - minH) * 4294967296 + (time[2 * i]! >>> 0);
  return keys;
}

/** The stable ascending order of rows by time, or null if they already ascend. */
export function timeOrder(time: Int32Array): Uint32Array | null {
  const n = time.length / 2;
  const bounds: number[] = [0];
  for (let i = 1; i < n; i++) if (!timeLe(time, i - 1, i)) bounds.push(i);
  if (bounds.length === 1) return null;
  bounds.push(n);
  const keys = relativeKeys(time);
  return keys ? mergeRuns(n, bounds, (a, b) => keys[a]! <= keys[b]!) : mergeRuns(n, bounds, (a, b) => timeLe(time, a, b));
}

/** Bottom-up merge of the ascending runs between `bounds`, stable (left run first on ties). */
function mergeRuns(n: number, bounds: number[], le: (a: number, b: number) => boolean): Uint32Array {
  let src = new Uint32Array(n);
  for (let i = 0; i < n; i++) src[i] = i;
  let dst = new Uint32Array(n);
  let runs = bounds;
  while (runs.length > 2) {
    const next: number[] = [0];
    for (let k = 0; k + 1 < runs.length; k += 2) {
      const a0 = runs[k]!;
      const a1 = runs[k + 1]!;
      const b1 = k + 2 < runs.length ? runs[k + 2]! : a1;
      let i = a0;
      let j = a1;
      let o = a0;
      while (i < a1 && j < b1) {
        if (le(src[i]!, src[j]!)) dst[o++] = src[i++]!;
        else dst[o++] = src[j++]!;
      }
      while (i < a1) dst[o++] = src[i++]!;
      while (j < b1) dst[o++] = src[j++]!;
      next.push(b1);
    }
    [src, dst] = [dst, src];
    runs = next;
  }
  return src;
}

/** For each sorted row, the index of the run it came from; shared by all columns with the same runs. */
class RunPositions {
  private cache: { ends: Int32Array; runOf: Uint32Array }[] = [];

  constructor(private readonly perm: Uint32Array) {}

  of(ends: Int32Array): Uint32Array {
    const hit = this.cache.find((c) => sameInts(c.ends, ends));
    if (hit) return hit.runOf;
    const staged = new Uint32Array(this.perm.length);
    let start = 0;
    for (let k = 0; k < ends.length; k++) {
      staged.fill(k, start, ends[k]!);
      start = ends[k]!;
    }
    const runOf = new Uint32Array(this.perm.length);
    for (let i = 0; i < runOf.length; i++) runOf[i] = staged[this.perm[i]!]!;
    this.cache.push({ ends, runOf });
    return runOf;
  }
}

function sameInts(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function gatherIndices(ix: StagingIndices, perm: Uint32Array, runs: RunPositions): StagingIndices {
  const out = new Uint32Array(perm.length);
  if ('perRow' in ix) {
    for (let i = 0; i < perm.length; i++) out[i] = ix.perRow[perm[i]!]!;
    return { perRow: out };
  }
  const runOf = runs.of(ix.runEnds);
  // Per-block values shared by the merged streams (process, exe, user…) stay one run after the sort: keep
  // them as runs, which the writer encodes without a per-row pass, when there are few enough of them.
  const maxRuns = perm.length >> 4;
  const ends = new Int32Array(maxRuns + 1);
  const ids = new Int32Array(maxRuns + 1);
  let n = 0;
  let prev = 0;
  for (let i = 0; i < perm.length; i++) {
    const id = ix.runIds[runOf[i]!]!;
    if (n > 0 && id === prev) continue;
    if (n > 0) ends[n - 1] = i;
    if (n === maxRuns) {
      n = -1;
      break;
    }
    ids[n++] = prev = id;
  }
  if (n >= 0) {
    if (n > 0) ends[n - 1] = perm.length;
    return { runEnds: ends.slice(0, n), runIds: ids.slice(0, n) };
  }
  // runs → one id per row (nulls, id -1, wrap to 0xffffffff and are told apart by the writer)
  for (let i = 0; i < perm.length; i++) out[i] = ix.runIds[runOf[i]!]! >>> 0;
  return { perRow: out };
}

function gatherText(data: Uint8Array, offsets: Int32Array, perm: Uint32Array): { data: Uint8Array; offsets: Int32Array } {
  // where each row's string starts and, cumulated, how long it is: what transit's message gather copies from
  const n = perm.length;
  const starts = new Uint32Array(n);
  const outOffsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    const r = perm[i]!;
    starts[i] = offsets[r]!;
    outOffsets[i + 1] = outOffsets[i]! + offsets[r + 1]! - offsets[r]!;
  }
  const out = gatherMessages(data, starts, outOffsets, n, new Uint8Array(outOffsets[n]!), 0);
  return { data: out, offsets: outOffsets };
}

function gatherEntries(e: MapEntries, perm: Uint32Array): MapEntries {
  const n = perm.length;
  const offsets = new Int32Array(n + 1);
  const keys = new Uint32Array(e.keys.length);
  const values = new Uint32Array(e.values.length);
  let p = 0;
  for (let i = 0; i < n; i++) {
    const r = perm[i]!;
    for (let k = e.offsets[r]!; k < e.offsets[r + 1]!; k++) {
      keys[p] = e.keys[k]!;
      values[p++] = e.values[k]!;
    }
    offsets[i + 1] = p;
  }
  return { ...e, offsets, keys, values };
}

function gather(c: StagingColumn, perm: Uint32Array, runs: RunPositions): StagingColumn {
  switch (c.kind) {
    case 'int32': {
      const v = new Int32Array(perm.length);
      for (let i = 0; i < perm.length; i++) v[i] = c.values[perm[i]!]!;
      return { ...c, values: v };
    }
    case 'double': {
      const v = new Float64Array(perm.length);
      for (let i = 0; i < perm.length; i++) v[i] = c.values[perm[i]!]!;
      return { ...c, values: v };
    }
    case 'int64': {
      const v = new Int32Array(2 * perm.length);
      for (let i = 0; i < perm.length; i++) {
        v[2 * i] = c.values[2 * perm[i]!]!;
        v[2 * i + 1] = c.values[2 * perm[i]! + 1]!;
      }
      return { ...c, values: v };
    }
    case 'text': {
      const t = gatherText(c.data, c.offsets, perm);
      let present: Uint8Array | undefined;
      if (c.present) {
        present = new Uint8Array(perm.length);
        for (let i = 0; i < perm.length; i++) present[i] = c.present[perm[i]!]!;
      }
      // rows leave their blocks: the blocks' packed bytes no longer match any page
      return { ...c, ...t, present, entries: c.entries && gatherEntries(c.entries, perm), packed: undefined };
    }
    case 'dict-text':
    case 'dict-int64':
      return { ...c, indices: gatherIndices(c.indices, perm, runs) } as StagingColumn;
  }
}

/** The staged rows in the order `perm` lists them. */
export function reorder(staged: StagedRows, perm: Uint32Array): StagedRows {
  const runs = new RunPositions(perm);
  return { length: staged.length, columns: staged.columns.map((c) => gather(c, perm, runs)), sortedBy: 'time' };
}
