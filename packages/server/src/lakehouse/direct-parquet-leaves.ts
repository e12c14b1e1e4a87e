/**
 * The final partition's columns as Parquet sees them: schema elements shaped like DuckDB's own (so
 * `read_parquet` infers the same types) and, per row group, the leaf columns' page contents.
 *
 * A view column becomes one leaf, except MAP(VARCHAR, VARCHAR), which is the standard three-level group
 * (optional map → repeated key_value → required key, optional value) and so two leaves with repetition
 * levels. Interned strings are dictionary-encoded (the staged ids already index a dictionary; a large
 * dictionary is cut down to what each row group uses), messages DELTA_LENGTH_BYTE_ARRAY (their bytes are
 * one range of the staged buffer), int64 times DELTA_BINARY_PACKED (PLAIN when deltas are too wide), other
 * numbers PLAIN. Time columns and strings carry min/max statistics.
 *
 * @example
 *   const plan = leafPlan(spec, stagedColumn); // null: this writer does not handle that shape
 *   const page = plan.leaves[0]!.page(0, 122880);
 */
import { bool, i32, str, struct, type ThriftValue } from './staging-thrift.js';
import type { MapEntries, PackedBlocks, StagingColumn } from './staging-parquet.js';
import type { ColumnSpec } from './row-batch.js';
import { firstAbove } from './direct-parquet-order.js';
import { ByteSink, LevelRuns, bitWidth, bytesOf, constantLevels, deltaInt64, deltaLengths, hybrid, levelBlock, plainTextRange, plainTexts, prefixed } from './direct-parquet-encoding.js';

export const PHYSICAL = { int32: 1, int64: 2, double: 5, bytes: 6 } as const;
export const ENCODING = { PLAIN: 0, RLE: 3, DELTA_BINARY_PACKED: 5, DELTA_LENGTH_BYTE_ARRAY: 6, RLE_DICTIONARY: 8 } as const;

/** One data page's content (uncompressed), plus what the column chunk metadata repeats. */
export interface LeafPage {
  /** level entries, nulls included */
  numValues: number;
  parts: Uint8Array[];
  /** the values' encoding when not PLAIN or dictionary indices */
  encoding?: number;
  dictionary?: { bytes: Uint8Array; count: number };
  nullCount?: number;
  /** min/max as PLAIN bytes, for row-group pruning */
  minMax?: [Uint8Array, Uint8Array];
  /** write these data pages instead of one page of `parts` (their counts add up to `numValues`) */
  split?: PageBody[];
}

/** One data page: `parts` to compress, then, when `packed`, an LZ4 block holding the rest of the page already. */
export interface PageBody {
  numValues: number;
  parts: Uint8Array[];
  packed?: { lz4: Uint8Array; size: number };
}

export interface Leaf {
  path: string[];
  physical: number;
  page(r0: number, r1: number): LeafPage;
}

export interface LeafPlan {
  schema: ThriftValue[];
  leaves: Leaf[];
}

const OPTIONAL = 1;
const REQUIRED = 0;
const REPEATED = 2;
const UTF8 = 0;
const MAP_CONVERTED = 1;
const INT_32 = 17;
const NULL_ID = 0xffffffff;

function element(fields: { type?: number; repetition: number; name: string; children?: number; converted?: number; logical?: ThriftValue }): ThriftValue {
  return struct([
    [1, fields.type === undefined ? undefined : i32(fields.type)],
    [3, i32(fields.repetition)],
    [4, str(fields.name)],
    [5, fields.children === undefined ? undefined : i32(fields.children)],
    [6, fields.converted === undefined ? undefined : i32(fields.converted)],
    [10, fields.logical],
  ]);
}

/** TIMESTAMP(NANOS) not adjusted to UTC: what DuckDB writes for TIMESTAMP_NS, and reads back as it. */
const TIMESTAMP_NS_LOGICAL = struct([[8, struct([[1, bool(false)], [2, struct([[3, struct([])]])]])]]);

/** Definition levels of a flat optional column (1 present, 0 null): one RLE run when nothing is null. */
function flatLevels(nullFlags: Uint8Array | null, r0: number, r1: number): { levels: Uint8Array; nulls: number } {
  if (!nullFlags) return { levels: constantLevels(1, r1 - r0), nulls: 0 };
  let nulls = 0;
  for (let i = r0; i < r1; i++) nulls += 1 - nullFlags[i]!;
  if (nulls === 0) return { levels: constantLevels(1, r1 - r0), nulls: 0 };
  return { levels: levelBlock(nullFlags, r0, r1, 1), nulls };
}

function int64Bytes(lo: number, hi: number): Uint8Array {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setInt32(0, lo, true);
  v.setInt32(4, hi, true);
  return b;
}

/** Min and max of (lo, hi) pairs, over pair indices `rows` (or [r0, r1) when `rows` is null). */
function int64MinMax(pairs: Int32Array, rows: readonly number[] | null, r0 = 0, r1 = 0): [Uint8Array, Uint8Array] | undefined {
  const n = rows ? rows.length : r1 - r0;
  if (n === 0) return undefined;
  let minI = rows ? rows[0]! : r0;
  let maxI = minI;
  let minH = pairs[2 * minI + 1]!;
  let minL = pairs[2 * minI]! >>> 0;
  let maxH = minH;
  let maxL = minL;
  for (let k = 1; k < n; k++) {
    const i = rows ? rows[k]! : r0 + k;
    const h = pairs[2 * i + 1]!;
    const l = pairs[2 * i]! >>> 0;
    if (h < minH || (h === minH && l < minL)) {
      minI = i;
      minH = h;
      minL = l;
    }
    if (h > maxH || (h === maxH && l > maxL)) {
      maxI = i;
      maxH = h;
      maxL = l;
    }
  }
  return [int64Bytes(pairs[2 * minI]!, pairs[2 * minI + 1]!), int64Bytes(pairs[2 * maxI]!, pairs[2 * maxI + 1]!)];
}

/** Runs (ends cumulative, ids; -1 / NULL_ID for null) expanded to one id per row. */
function expandRuns(ends: Int32Array, ids: Int32Array): Uint32Array {
  const out = new Uint32Array(ends.length ? ends[ends.length - 1]! : 0);
  let start = 0;
  for (let k = 0; k < ends.length; k++) {
    out.fill(ids[k]! >>> 0, start, ends[k]!);
    start = ends[k]!;
  }
  return out;
}

/** Above this many entries, each row group gets a dictionary of only the entries it uses. */
const LOCAL_DICTIONARY = 1024;

/**
 * The group's ids renumbered (first use first) into a dictionary of the entries they use: a batch-wide
 * dictionary of high-cardinality values (say, a request id per event) must not be repeated in every row group.
 */
function localDictionary(ids: Uint32Array, dict: readonly Uint8Array[]): { ids: Uint32Array; dict: Uint8Array[] } {
  const remap = new Int32Array(dict.length).fill(-1);
  const local: Uint8Array[] = [];
  const out = new Uint32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const g = ids[i]!;
    let l = remap[g]!;
    if (l < 0) {
      l = remap[g] = local.length;
      local.push(dict[g]!);
    }
    out[i] = l;
  }
  return { ids: out, dict: local };
}

/** Longest string kept in statistics: longer bounds are left out rather than truncated. */
const MAX_STAT_BYTES = 256;

/** Byte-wise (UTF-8 code point order, as DuckDB compares VARCHAR) min and max of the listed entries. */
function textMinMax(dict: readonly Uint8Array[], used: Iterable<number>): [Uint8Array, Uint8Array] | undefined {
  let min: Uint8Array | undefined;
  let max: Uint8Array | undefined;
  for (const id of used) {
    const v = dict[id]!;
    if (!min || Buffer.compare(v, min) < 0) min = v;
    if (!max || Buffer.compare(v, max) > 0) max = v;
  }
  if (!min || !max || min.length > MAX_STAT_BYTES || max.length > MAX_STAT_BYTES) return undefined;
  return [min, max];
}

function usedIds(ids: Uint32Array, count: number): number[] {
  const seen = new Uint8Array(count);
  for (let i = 0; i < ids.length; i++) seen[ids[i]!] = 1;
  const used: number[] = [];
  for (let id = 0; id < count; id++) if (seen[id]) used.push(id);
  return used;
}

/** A dictionary-encoded flat leaf (VARCHAR strings, TIMESTAMP_NS per-block constants). */
function dictLeaf(c: Extract<StagingColumn, { kind: 'dict-text' | 'dict-int64' }>, physical: number): Leaf {
  const count = c.kind === 'dict-text' ? c.dictionary.length : c.dictionary.length / 2;
  let plainDictionary: Uint8Array | undefined;
  const dictBytes = () => (plainDictionary ??= c.kind === 'dict-text' ? plainTexts(c.dictionary) : bytesOf(c.dictionary));
  const width = Math.max(1, bitWidth(count - 1));
  const bytes = Math.ceil(width / 8);
  const ix = c.indices;
  const nullable = c.kind === 'dict-text' && c.nullable === true;
  return {
    path: [c.name],
    physical,
    page(r0, r1) {
      const idx = new ByteSink();
      idx.byte(width);
      let used: number[] = [];
      let levels: Uint8Array;
      let nulls = 0;
      if ('runEnds' in ix) {
        // one run per block: levels and ids come as runs, no per-row pass
        const levelRuns = new LevelRuns(1);
        let start = 0;
        for (let k = 0; k < ix.runEnds.length; k++) {
          const end = ix.runEnds[k]!;
          const a = Math.max(start, r0);
          const b = Math.min(end, r1);
          start = end;
          if (a >= b) continue;
          const id = ix.runIds[k]!;
          levelRuns.add(id < 0 ? 0 : 1, b - a);
          if (id < 0) {
            nulls += b - a;
            continue;
          }
          idx.varint((b - a) * 2);
          idx.le(id, bytes);
          used.push(id);
        }
        levels = nullable ? levelRuns.block() : constantLevels(1, r1 - r0);
      } else {
        const ids = ix.perRow;
        if (nullable) {
          const flags = new Uint8Array(r1);
          for (let i = r0; i < r1; i++) flags[i] = ids[i] === NULL_ID ? 0 : 1;
          ({ levels, nulls } = flatLevels(flags, r0, r1));
        } else levels = constantLevels(1, r1 - r0);
        let group = ids.subarray(r0, r1);
        if (nulls > 0) {
          group = new Uint32Array(r1 - r0 - nulls);
          let p = 0;
          for (let i = r0; i < r1; i++) if (ids[i] !== NULL_ID) group[p++] = ids[i]!;
        }
        if (c.kind === 'dict-text' && count > LOCAL_DICTIONARY) {
          const local = localDictionary(group, c.dictionary);
          const w = Math.max(1, bitWidth(local.dict.length - 1));
          const out = new ByteSink();
          out.byte(w);
          hybrid(out, local.ids, 0, local.ids.length, w);
          const minMax = textMinMax(local.dict, local.dict.keys());
          return { numValues: r1 - r0, parts: [levels, out.bytes()], dictionary: { bytes: plainTexts(local.dict), count: local.dict.length }, nullCount: nulls, minMax };
        }
        hybrid(idx, group, 0, group.length, width);
        used = usedIds(group, count);
      }
      const minMax = c.kind === 'dict-int64' ? int64MinMax(c.dictionary, used) : textMinMax(c.dictionary, used);
      return { numValues: r1 - r0, parts: [levels, idx.bytes()], dictionary: { bytes: dictBytes(), count }, nullCount: nulls, minMax };
    },
  };
}

/** `ascending`: the column's values are in ascending order, so a page's min and max are its first and last. */
function plainLeaf(c: StagingColumn, physical: number, ascending = false): Leaf {
  return {
    path: [c.name],
    physical,
    page(r0, r1) {
      switch (c.kind) {
        case 'int32':
        case 'double':
          return { numValues: r1 - r0, parts: [constantLevels(1, r1 - r0), bytesOf(c.values.subarray(r0, r1))], nullCount: 0 };
        case 'int64': {
          // times: DELTA_BINARY_PACKED is a few bits a row where PLAIN is 8 bytes that LZ4 then has to crunch
          const delta = new ByteSink();
          const packed = deltaInt64(delta, c.values, r0, r1 - r0);
          return {
            numValues: r1 - r0,
            parts: [constantLevels(1, r1 - r0), packed ? delta.bytes() : bytesOf(c.values.subarray(2 * r0, 2 * r1))],
            encoding: packed ? ENCODING.DELTA_BINARY_PACKED : undefined,
            nullCount: 0,
            minMax: ascending ? int64MinMax(c.values, [r0, r1 - 1]) : int64MinMax(c.values, null, r0, r1),
          };
        }
        case 'text': {
          if (!c.present) {
            const split = c.packed && packedPages(c, c.packed, r0, r1);
            const parts = split ? [] : deltaLengthPage(c, r0, r1);
            return { numValues: r1 - r0, parts, encoding: ENCODING.DELTA_LENGTH_BYTE_ARRAY, nullCount: 0, ...(split ? { split } : {}) };
          }
          const { levels, nulls } = flatLevels(c.present ?? null, r0, r1);
          return { numValues: r1 - r0, parts: [levels, plainTextRange(c.data, c.offsets, c.present, r0, r1)], nullCount: nulls };
        }
        default:
          throw new Error(`direct parquet: ${c.kind} is not a plain column`);
      }
    },
  };
}

/** DELTA_LENGTH_BYTE_ARRAY of rows [r0, r1): lengths first, then the strings as one range of the staged buffer (no per-string copy). */
function deltaLengthPage(c: { data: Uint8Array; offsets: Int32Array }, r0: number, r1: number): Uint8Array[] {
  const head = new ByteSink();
  deltaLengths(head, c.offsets, r0, r1 - r0);
  return [constantLevels(1, r1 - r0), head.bytes(), c.data.subarray(c.offsets[r0]!, c.offsets[r1]!)];
}

/**
 * Rows [r0, r1) as one page per packed block wholly inside them — the page's levels and lengths, then the
 * client's LZ4 block of the strings, spliced, not compressed again — and one ordinary page per stretch of
 * other rows. Null when no packed block lies inside (the caller writes one ordinary page).
 */
function packedPages(c: { data: Uint8Array; offsets: Int32Array }, packed: PackedBlocks, r0: number, r1: number): PageBody[] | null {
  const { ends, lz4 } = packed;
  const pages: PageBody[] = [];
  let spliced = false;
  let pending = r0; // first row not yet in a page
  for (let b = firstAbove(ends, r0); b < ends.length && pending < r1; b++) {
    const start = b === 0 ? 0 : ends[b - 1]!;
    const end = ends[b]!;
    if (start >= r1) break;
    const block = lz4[b];
    if (!block || start < r0 || end > r1) continue;
    if (start > pending) pages.push({ numValues: start - pending, parts: deltaLengthPage(c, pending, start) });
    const head = new ByteSink();
    deltaLengths(head, c.offsets, start, end - start);
    pages.push({ numValues: end - start, parts: [constantLevels(1, end - start), head.bytes()], packed: { lz4: block, size: c.offsets[end]! - c.offsets[start]! } });
    spliced = true;
    pending = end;
  }
  if (!spliced) return null;
  if (pending < r1) pages.push({ numValues: r1 - pending, parts: deltaLengthPage(c, pending, r1) });
  return pages;
}

/**
 * A map column as entry ranges: row i's map is entries [from[i], to[i]) of keys/values, or null where
 * `isNull[i]` is 1. Event maps index their own entries; per-block maps index a shared list of distinct maps.
 */
interface MapRows {
  keys: Uint32Array;
  values: Uint32Array;
  keyDictionary: readonly Uint8Array[];
  valueDictionary: readonly Uint8Array[];
  /** per row: its map's first entry and end, and whether it is null (needed when `levels` is absent) */
  rows?(): { from: Int32Array; to: Int32Array; isNull: Uint8Array };
  /** the same per run of rows sharing one map (`ends` cumulative), when the column is staged as runs */
  runs?(): { ends: Int32Array; from: Int32Array; to: Int32Array; isNull: Uint8Array };
  /** whether every row in [r0, r1) is null, when that is cheap to tell */
  allNull?(r0: number, r1: number): boolean;
  /**
   * When rows' entries are stored in row order (event maps): the levels of rows [r0, r1) straight from the
   * staged offsets, and the range of `keys`/`values` they cover — no per-row arrays over the whole batch.
   */
  levels?(r0: number, r1: number, full: number): MapLevels;
}

interface MapLevels {
  /** the encoded repetition and definition levels (v1 page form) */
  rep: Uint8Array;
  def: Uint8Array;
  slots: number;
  first: number;
  last: number;
}

/**
 * Repetition and definition levels (`full` for an entry) of event maps' rows [r0, r1), run by run: rows that own
 * no entries (null maps) come in stretches, since most events carry no properties, and each stretch is one step.
 */
function entryLevels(o: Int32Array, r0: number, r1: number, full: number): MapLevels {
  // where maps are common (a row in 32 or more), runs are short: one bit-packed run over all slots is cheaper
  if ((o[r1]! - o[r0]!) * 32 >= r1 - r0) return packedEntryLevels(o, r0, r1, full);
  const rep = new LevelRuns(1);
  const def = new LevelRuns(2);
  let slots = 0;
  let i = r0;
  while (i < r1) {
    const at = o[i]!;
    let j = i;
    while (j < r1 && o[j + 1] === at) j++;
    def.add(0, j - i);
    rep.add(0, j - i);
    slots += j - i;
    if (j === r1) break;
    // row j's n entries: the first starts a row (repetition 0), the others repeat
    const n = o[j + 1]! - at;
    def.add(full, n);
    rep.add(0, 1);
    if (n > 1) rep.add(1, n - 1);
    slots += n;
    i = j + 1;
  }
  return { rep: rep.block(), def: def.block(), slots, first: o[r0]!, last: o[r1]! };
}

/**
 * The same levels as `entryLevels`, each stream as a single bit-packed run (zero padded at its end, which the page's
 * value count bounds): one pass over the rows a stream, instead of an RLE run and a packed run per map row.
 * Repetition levels are one RLE run when no map has two entries.
 */
function packedEntryLevels(o: Int32Array, r0: number, r1: number, full: number): MapLevels {
  let slots = 0;
  for (let i = r0; i < r1; i++) {
    const n = o[i + 1]! - o[i]!;
    slots += n === 0 ? 1 : n;
  }
  const single = slots === r1 - r0;
  if (single) return { rep: constantLevels(0, slots), def: singleEntryDefs(o, r0, r1, full), slots, first: o[r0]!, last: o[r1]! };
  return { rep: packedLevels(o, r0, r1, slots, 1, -1), def: packedLevels(o, r0, r1, slots, 2, full), slots, first: o[r0]!, last: o[r1]! };
}

/**
 * `packedLevels`' definition levels when no row has two entries (the usual case: one property per event that
 * has any): a slot per row, 0 or `full`, four rows a byte with no branch. Each row's entry count (0 or 1) lands
 * in its 2-bit field, and multiplying the byte by `full` (≤ 3) turns every 1 into `full` without a carry.
 */
function singleEntryDefs(o: Int32Array, r0: number, r1: number, full: number): Uint8Array {
  const rows = r1 - r0;
  const out = new ByteSink();
  out.le(0, 4);
  out.varint(Math.ceil(rows / 8) * 2 + 1);
  const bytes = Math.ceil(rows / 8) * 2;
  out.reserve(bytes);
  const buf = out.buf;
  const start = out.length;
  let p = start;
  let i = r0;
  for (; i + 4 <= r1; i += 4) {
    const a = o[i]!;
    const b = o[i + 1]!;
    const c = o[i + 2]!;
    const d = o[i + 3]!;
    buf[p++] = ((b - a) | ((c - b) << 2) | ((d - c) << 4) | ((o[i + 4]! - d) << 6)) * full;
  }
  let last = 0;
  for (let k = 0; i < r1; i++, k += 2) last |= (o[i + 1]! - o[i]!) << k;
  if (p < start + bytes) buf[p++] = last * full;
  // the rest of the last group of 8 slots: padding the run header counts
  while (p < start + bytes) buf[p++] = 0;
  out.length = p;
  return prefixed(out);
}

/**
 * One level stream of event maps, `width` bits a slot, as a v1 level block holding one bit-packed run. `full` ≥ 0:
 * definition levels (0 for a row without entries, `full` for each entry); -1: repetition levels (0, then 1 for
 * a row's further entries).
 */
function packedLevels(o: Int32Array, r0: number, r1: number, slots: number, width: number, full: number): Uint8Array {
  const out = new ByteSink();
  out.le(0, 4);
  out.varint(Math.ceil(slots / 8) * 2 + 1);
  out.reserve(Math.ceil((slots * width) / 8) + 8);
  const buf = out.buf;
  let p = out.length;
  let acc = 0;
  let bits = 0;
  for (let i = r0; i < r1; i++) {
    const n = o[i + 1]! - o[i]!;
    if (n === 0) bits += width;
    else {
      for (let k = 0; k < n; k++) {
        acc |= (full >= 0 ? full : k === 0 ? 0 : 1) << bits;
        bits += width;
        if (bits >= 8) {
          buf[p++] = acc & 0xff;
          acc >>>= 8;
          bits -= 8;
        }
      }
    }
    if (bits >= 8) {
      buf[p++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  }
  while (bits > 0) {
    buf[p++] = acc & 0xff;
    acc >>>= 8;
    bits = Math.max(0, bits - 8);
  }
  // whole groups of 8 slots: the padding the run header counts
  const end = out.length + Math.ceil(slots / 8) * width;
  while (p < end) buf[p++] = 0;
  out.length = p;
  return prefixed(out);
}

/** Event maps: a row without entries is a null map (transit has no empty map, so neither do they). */
function eventMaps(e: MapEntries): MapRows {
  return {
    ...e,
    // most event batches carry no properties at all
    allNull: (r0, r1) => e.offsets[r0] === e.offsets[r1],
    levels: (r0, r1, full) => entryLevels(e.offsets, r0, r1, full),
  };
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Per-block maps staged as a dictionary of JSON texts: each distinct map is parsed once, rows point at it. */
function jsonDictionaryMaps(c: Extract<StagingColumn, { kind: 'dict-text' }>): MapRows {
  const keyDict: Uint8Array[] = [];
  const valueDict: Uint8Array[] = [];
  const keyIds = new Map<string, number>();
  const valueIds = new Map<string, number>();
  const idOf = (m: Map<string, number>, d: Uint8Array[], s: string) => {
    let id = m.get(s);
    if (id === undefined) {
      id = d.length;
      m.set(s, id);
      d.push(encoder.encode(s));
    }
    return id;
  };
  const keys: number[] = [];
  const values: number[] = [];
  const mapStart = new Int32Array(c.dictionary.length + 1);
  c.dictionary.forEach((json, m) => {
    // the text is JSON.stringify of a JS object, so parsing it back gives the same keys in the same order
    const obj = JSON.parse(decoder.decode(json)) as Record<string, unknown>;
    for (const k of Object.keys(obj)) {
      keys.push(idOf(keyIds, keyDict, k));
      values.push(idOf(valueIds, valueDict, String(obj[k])));
    }
    mapStart[m + 1] = keys.length;
  });
  return {
    keys: Uint32Array.from(keys),
    values: Uint32Array.from(values),
    keyDictionary: keyDict,
    valueDictionary: valueDict,
    runs:
      'runEnds' in c.indices
        ? () => {
            const { runEnds, runIds } = c.indices as { runEnds: Int32Array; runIds: Int32Array };
            const n = runEnds.length;
            const from = new Int32Array(n);
            const to = new Int32Array(n);
            const isNull = new Uint8Array(n);
            for (let k = 0; k < n; k++) {
              const id = runIds[k]! >>> 0;
              if (id === NULL_ID) isNull[k] = 1;
              else {
                from[k] = mapStart[id]!;
                to[k] = mapStart[id + 1]!;
              }
            }
            return { ends: runEnds, from, to, isNull };
          }
        : undefined,
    rows() {
      const ix = c.indices;
      const ids = 'perRow' in ix ? ix.perRow : expandRuns(ix.runEnds, ix.runIds);
      const n = ids.length;
      const from = new Int32Array(n);
      const to = new Int32Array(n);
      const isNull = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const id = ids[i]!;
        if (id === NULL_ID) isNull[i] = 1;
        else {
          from[i] = mapStart[id]!;
          to[i] = mapStart[id + 1]!;
        }
      }
      return { from, to, isNull };
    },
  };
}

/**
 * A page of per-block maps straight from their runs, when every map in it has at most one entry: each row is
 * then one slot, so repetition levels are all 0 and definition levels and ids are one RLE run per block —
 * no per-row arrays. Null when some map has several entries (the per-row path handles those).
 */
function runPage(
  runs: ReturnType<NonNullable<MapRows['runs']>>,
  ids: Uint32Array,
  full: number,
  width: number,
  r0: number,
  r1: number,
): { numValues: number; parts: Uint8Array[] } | null {
  const def = new LevelRuns(2);
  const idx = new ByteSink();
  idx.byte(width);
  const idBytes = Math.ceil(width / 8);
  let start = 0;
  for (let k = 0; k < runs.ends.length; k++) {
    const end = runs.ends[k]!;
    const a = Math.max(start, r0);
    const b = Math.min(end, r1);
    start = end;
    if (a >= b) continue;
    const n = runs.isNull[k] ? 0 : runs.to[k]! - runs.from[k]!;
    if (n > 1) return null;
    def.add(runs.isNull[k] ? 0 : n === 0 ? 1 : full, b - a);
    if (n === 1) {
      idx.varint((b - a) * 2);
      idx.le(ids[runs.from[k]!]!, idBytes);
    }
  }
  return { numValues: r1 - r0, parts: [constantLevels(0, r1 - r0), def.block(), idx.bytes()] };
}

/** key (which = 'key') or value leaf of a map: repetition 0 starts a row, definition says how deep it got. */
function mapLeaf(name: string, m: MapRows, which: 'key' | 'value', rowsOf: () => ReturnType<NonNullable<MapRows['rows']>>): Leaf {
  const ids = which === 'key' ? m.keys : m.values;
  const dictionary = which === 'key' ? m.keyDictionary : m.valueDictionary;
  const full = which === 'key' ? 2 : 3; // value is optional inside key_value: one level deeper
  const width = Math.max(1, bitWidth(dictionary.length - 1));
  let dictBytes: Uint8Array | undefined;
  let runsOf: ReturnType<NonNullable<MapRows['runs']>> | undefined;
  return {
    path: [name, 'key_value', which],
    physical: PHYSICAL.bytes,
    page(r0, r1) {
      if (m.allNull?.(r0, r1)) {
        // one slot per row, all at repetition 0 and definition 0: two RLE runs and no values
        const idx = new ByteSink();
        idx.byte(width);
        return { numValues: r1 - r0, parts: [constantLevels(0, r1 - r0), constantLevels(0, r1 - r0), idx.bytes()], dictionary: { bytes: (dictBytes ??= plainTexts(dictionary)), count: dictionary.length } };
      }
      if (m.levels) {
        const { rep, def, slots, first, last } = m.levels(r0, r1, full);
        return withValues([rep, def], slots, ids.subarray(first, last));
      }
      if (m.runs && dictionary.length <= LOCAL_DICTIONARY) {
        runsOf ??= m.runs();
        const p = runPage(runsOf, ids, full, width, r0, r1);
        if (p) return { ...p, dictionary: { bytes: (dictBytes ??= plainTexts(dictionary)), count: dictionary.length } };
      }
      const { from, to, isNull } = rowsOf();
      let slots = 0;
      let entries = 0;
      for (let i = r0; i < r1; i++) {
        const n = isNull[i] ? 0 : to[i]! - from[i]!;
        slots += n === 0 ? 1 : n;
        entries += n;
      }
      const rep = new Uint8Array(slots);
      const def = new Uint8Array(slots);
      const vals = new Uint32Array(entries);
      let s = 0;
      let e = 0;
      for (let i = r0; i < r1; i++) {
        if (isNull[i]) {
          s++; // rep 0, def 0
          continue;
        }
        const a = from[i]!;
        const b = to[i]!;
        if (a === b) {
          def[s++] = 1; // empty map
          continue;
        }
        def[s] = full;
        vals[e++] = ids[a]!;
        s++;
        for (let k = a + 1; k < b; k++) {
          rep[s] = 1;
          def[s++] = full;
          vals[e++] = ids[k]!;
        }
      }
      // no map with several entries: every repetition level is 0, one RLE run instead of a pass over them
      return withValues([slots === r1 - r0 ? constantLevels(0, slots) : levelBlock(rep, 0, slots, 1), levelBlock(def, 0, slots, 2)], slots, vals);
    },
  };

  /** The page: its levels, then the entries' dictionary indices (into a per-page dictionary when the shared one is large). */
  function withValues(levels: Uint8Array[], slots: number, vals: Uint32Array): LeafPage {
    const idx = new ByteSink();
    if (dictionary.length > LOCAL_DICTIONARY) {
      const local = localDictionary(vals, dictionary);
      const w = Math.max(1, bitWidth(local.dict.length - 1));
      idx.byte(w);
      hybrid(idx, local.ids, 0, vals.length, w);
      return { numValues: slots, parts: [...levels, idx.bytes()], dictionary: { bytes: plainTexts(local.dict), count: local.dict.length } };
    }
    idx.byte(width);
    hybrid(idx, vals, 0, vals.length, width);
    dictBytes ??= plainTexts(dictionary);
    return { numValues: slots, parts: [...levels, idx.bytes()], dictionary: { bytes: dictBytes, count: dictionary.length } };
  }
}

function noRows(): never {
  throw new Error('direct parquet: a map column offers neither levels nor rows');
}

function normalized(type: string): string {
  return type.replaceAll(' ', '').toUpperCase();
}

/** How `spec` is written from `c`, or null when this writer does not handle the pair; `ascending`: `c` is sorted. */
export function leafPlan(spec: ColumnSpec, c: StagingColumn, ascending = false): LeafPlan | null {
  if (spec.name !== c.name) return null;
  const name = spec.name;
  switch (normalized(spec.type)) {
    case 'VARCHAR': {
      const schema = [element({ type: PHYSICAL.bytes, repetition: OPTIONAL, name, converted: UTF8 })];
      if (c.kind === 'dict-text') return { schema, leaves: [dictLeaf(c, PHYSICAL.bytes)] };
      if (c.kind === 'text') return { schema, leaves: [plainLeaf(c, PHYSICAL.bytes)] };
      return null;
    }
    case 'TIMESTAMP_NS': {
      const schema = [element({ type: PHYSICAL.int64, repetition: OPTIONAL, name, logical: TIMESTAMP_NS_LOGICAL })];
      if (c.kind === 'int64') return { schema, leaves: [plainLeaf(c, PHYSICAL.int64, ascending)] };
      if (c.kind === 'dict-int64') return { schema, leaves: [dictLeaf(c, PHYSICAL.int64)] };
      return null;
    }
    case 'INTEGER':
      if (c.kind !== 'int32') return null;
      return { schema: [element({ type: PHYSICAL.int32, repetition: OPTIONAL, name, converted: INT_32 })], leaves: [plainLeaf(c, PHYSICAL.int32)] };
    case 'DOUBLE':
      if (c.kind !== 'double') return null;
      return { schema: [element({ type: PHYSICAL.double, repetition: OPTIONAL, name })], leaves: [plainLeaf(c, PHYSICAL.double)] };
    case 'MAP(VARCHAR,VARCHAR)': {
      let m: MapRows;
      if (c.kind === 'text' && c.entries) m = eventMaps(c.entries);
      else if (c.kind === 'dict-text') m = jsonDictionaryMaps(c);
      else return null;
      const schema = [
        element({ repetition: OPTIONAL, name, children: 1, converted: MAP_CONVERTED }),
        element({ repetition: REPEATED, name: 'key_value', children: 2 }),
        element({ type: PHYSICAL.bytes, repetition: REQUIRED, name: 'key', converted: UTF8 }),
        element({ type: PHYSICAL.bytes, repetition: OPTIONAL, name: 'value', converted: UTF8 }),
      ];
      let rows: ReturnType<NonNullable<MapRows['rows']>> | undefined;
      const rowsOf = () => (rows ??= m.rows?.() ?? noRows());
      return { schema, leaves: [mapLeaf(name, m, 'key', rowsOf), mapLeaf(name, m, 'value', rowsOf)] };
    }
    default:
      return null;
  }
}
