/**
 * Staging columns for `log_entries` and `measures`, built straight from decoded blocks: typed arrays are
 * copied, interned strings become ids of a batch-wide dictionary, per-block values become runs, messages
 * stay one UTF-8 buffer. No JS value is created per event except for events that carry properties.
 *
 * Each column has the view column's name; its staged form is what `parquet-writer.ts` casts back in SQL:
 * TIMESTAMP_NS as BIGINT nanoseconds, MAP(VARCHAR, VARCHAR) as JSON text. Values match `block-rows.ts`'s
 * row conversion exactly (event time rounding, property maps built as JS objects, invalid UTF-8 replaced).
 */
import { gatherMessages } from '@sirius/transit';
import type { FloatMetricColumns, IntMetricColumns, MetricColumns, PropertyColumns, TransitColumns } from '@sirius/transit';
import { Int64Dictionary, RunColumn, TextDictionary, type BlockRemap } from './staging-dictionary.js';
import type { StagingColumn } from './staging-parquet.js';
import type { BlockColumns, SourceBlock } from './source-blocks.js';
import { timeLe, timesAscend } from './direct-parquet-order.js';
import { ByteSink } from './direct-parquet-encoding.js';
import { backToBackUtf8 } from '../lake/message-utf8.js';

export interface StagedRows {
  length: number;
  columns: StagingColumn[];
  /** the column the rows are already in ascending order of, if any: the writer then skips its sort */
  sortedBy: string | null;
  /** row ends of the source blocks, where row groups should end so a packed column's blocks stay whole */
  cuts?: Int32Array;
}

const TWO32 = 4294967296;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The per-block columns every row repeats, kept as runs. */
class BlockConstants {
  private readonly text = { process_id: new TextDictionary(), stream_id: new TextDictionary(), block_id: new TextDictionary(), exe: new TextDictionary(), username: new TextDictionary(), computer: new TextDictionary() };
  private readonly textRuns = { process_id: new RunColumn(), stream_id: new RunColumn(), block_id: new RunColumn(), exe: new RunColumn(), username: new RunColumn(), computer: new RunColumn() };
  private readonly insert = new Int64Dictionary();
  private readonly insertRuns = new RunColumn();
  private readonly props = new TextDictionary();
  private readonly propsRuns = new RunColumn();
  private readonly propsJson = new WeakMap<object, string>();

  /** Closes a run for block `b`, whose rows end at `end`. */
  push(b: SourceBlock, end: number): void {
    for (const k of Object.keys(this.text) as (keyof BlockConstants['text'])[]) this.textRuns[k].push(end, this.text[k].add(b[k]));
    this.insertRuns.push(end, this.insert.add(b.insert_time));
    const p = b.process_properties;
    let json = this.propsJson.get(p);
    if (json === undefined) {
      json = Object.keys(p).length ? JSON.stringify(p) : '';
      this.propsJson.set(p, json);
    }
    this.propsRuns.push(end, json === '' ? -1 : this.props.add(json));
  }

  /** The first seven columns (block identity) and process_properties. */
  columns(): { head: StagingColumn[]; processProperties: StagingColumn } {
    const t = (name: keyof BlockConstants['text']): StagingColumn => ({ name, kind: 'dict-text', dictionary: this.text[name].values, indices: this.textRuns[name].indices });
    return {
      head: [
        t('process_id'),
        t('stream_id'),
        t('block_id'),
        { name: 'insert_time', kind: 'dict-int64', dictionary: this.insert.pairs, indices: this.insertRuns.indices },
        t('exe'),
        t('username'),
        t('computer'),
      ],
      processProperties: { name: 'process_properties', kind: 'dict-text', dictionary: this.props.values, indices: this.propsRuns.indices, nullable: true },
    };
  }
}

const EXACT_NS_TICKS = 2 ** 50;

/** Event times as (lo, hi) int64 pairs: begin_time + round(ticks·1e9 / frequency), as `eventTime` computes. */
function fillTimes(out: Int32Array, at: number, b: SourceBlock, ticks: Float64Array, count: number): void {
  const hiB = Number(BigInt.asIntN(32, b.begin_time >> 32n));
  const loB = Number(b.begin_time & 0xffffffffn);
  const scale = 1e9;
  const f = b.tsc_frequency;
  // With a nanosecond clock (Node's) the formula gives back the ticks themselves: for integer t ≤ 2^50 the two
  // roundings of (t·1e9)/1e9 stay within t·2^-52 ≤ 1/4 of t. Skipping the divide is a fifth of this loop.
  const exact = f === scale ? EXACT_NS_TICKS : -1;
  // With that clock, ticks that keep the low word below 2^32 only add to it: no split into words, no carry.
  // A block spans seconds, so most of them do; the first tick past the bound sends the rest the long way.
  let i = 0;
  if (exact > 0) {
    const room = TWO32 - 1 - loB;
    const hi = hiB | 0;
    for (; i < count; i++) {
      const t = ticks[i]!;
      if (t > room) break;
      out[2 * (at + i)] = (loB + t) | 0;
      out[2 * (at + i) + 1] = hi;
    }
  }
  for (; i < count; i++) {
    const t = ticks[i]!;
    const off = t <= exact ? t : Math.round((t * scale) / f);
    const hiO = Math.floor(off / TWO32);
    let lo = loB + (off - hiO * TWO32);
    let hi = hiB + hiO;
    if (lo >= TWO32) {
      lo -= TWO32;
      hi += 1;
    }
    out[2 * (at + i)] = lo | 0;
    out[2 * (at + i) + 1] = hi | 0;
  }
}

interface CachedMap {
  json: Uint8Array;
  keys: Uint32Array;
  values: Uint32Array;
}

/** Event properties as JSON of the same JS object `block-rows.ts` builds (so key order and duplicates match). */
class PropertyColumn {
  readonly present: Uint8Array;
  readonly offsets: Int32Array;
  /** the maps' JSON, back to back; only touched by events that have properties */
  private readonly text = new ByteSink();
  /** the same maps as entries (`MapEntries`), in the object's key order, which is also its JSON's */
  private readonly entryOffsets: Int32Array;
  private keyIds = new Uint32Array(256);
  private valueIds = new Uint32Array(256);
  private entryCount = 0;
  private readonly keyDict = new TextDictionary();
  private readonly valueDict = new TextDictionary();

  constructor(rows: number) {
    this.present = new Uint8Array(rows);
    this.offsets = new Int32Array(rows + 1);
    this.entryOffsets = new Int32Array(rows + 1);
  }

  /** A map's JSON bytes and entries (batch-wide ids), built once per distinct (key id, value id) list of a block. */
  private mapOf(c: PropertyColumns, strings: readonly string[], from: number, to: number): CachedMap {
    const obj: Record<string, string> = {};
    for (let k = from; k < to; k++) obj[strings[c.propKeys[k]!]!] = strings[c.propValues[k]!]!;
    const keys = Object.keys(obj);
    const m: CachedMap = { json: encoder.encode(JSON.stringify(obj)), keys: new Uint32Array(keys.length), values: new Uint32Array(keys.length) };
    keys.forEach((k, j) => {
      m.keys[j] = this.keyDict.add(k);
      m.values[j] = this.valueDict.add(obj[k]!);
    });
    return m;
  }

  private appendMap(m: CachedMap): void {
    this.text.append(m.json);
    for (let j = 0; j < m.keys.length; j++) {
      if (this.entryCount === this.keyIds.length) {
        const grow = (a: Uint32Array) => {
          const b = new Uint32Array(a.length * 2);
          b.set(a);
          return b;
        };
        this.keyIds = grow(this.keyIds);
        this.valueIds = grow(this.valueIds);
      }
      this.keyIds[this.entryCount] = m.keys[j]!;
      this.valueIds[this.entryCount++] = m.values[j]!;
    }
  }

  fill(at: number, c: PropertyColumns, strings: readonly string[], count: number): void {
    const po = c.propOffsets;
    const offsets = this.offsets;
    const entryOffsets = this.entryOffsets;
    // Events of a block mostly repeat a few property lists: each distinct list (by block-local string ids) is
    // turned into a JS object, JSON and dictionary ids once, then copied — the same bytes and entries as building
    // it per event, since the object depends only on the ids.
    let cache: Map<number | string, CachedMap> | undefined;
    const n = strings.length;
    // the text length and entry count as locals: most rows only repeat them
    let textEnd = this.text.length;
    let entries = this.entryCount;
    for (let i = 0; i < count; i++) {
      const from = po[i]!;
      const to = po[i + 1]!;
      if (from !== to) {
        cache ??= new Map();
        let key: number | string;
        if (to - from === 1) key = c.propKeys[from]! * n + c.propValues[from]!;
        else {
          key = '';
          for (let k = from; k < to; k++) key += `${c.propKeys[k]!},${c.propValues[k]!};`;
        }
        let m = cache.get(key);
        if (m === undefined) {
          m = this.mapOf(c, strings, from, to);
          cache.set(key, m);
        }
        this.appendMap(m);
        this.present[at + i] = 1;
        textEnd = this.text.length;
        entries = this.entryCount;
      }
      offsets[at + i + 1] = textEnd;
      entryOffsets[at + i + 1] = entries;
    }
  }

  column(): StagingColumn {
    const entries = {
      offsets: this.entryOffsets,
      keys: this.keyIds.subarray(0, this.entryCount),
      values: this.valueIds.subarray(0, this.entryCount),
      keyDictionary: this.keyDict.values,
      valueDictionary: this.valueDict.values,
    };
    return { name: 'properties', kind: 'text', data: this.text.bytes(), offsets: this.offsets, present: this.present, entries };
  }
}

function remapInto(out: Uint32Array, at: number, ids: Uint32Array, remap: BlockRemap, count: number): void {
  for (let i = 0; i < count; i++) out[at + i] = remap.id(ids[i]!);
}

/** A block's message offsets, which start at 0, moved to start at `base` in the batch's offsets. */
function rebaseOffsets(out: Int32Array, at: number, offsets: Int32Array, count: number, base: number): void {
  for (let i = 1; i <= count; i++) out[at + i] = base + offsets[i]!;
}

/** Each message re-encoded with invalid sequences replaced by U+FFFD, as TextDecoder does in the row path. */
function replacedMessages(blocks: readonly (TransitColumns | null)[]): { data: Uint8Array; offsets: Int32Array } {
  const parts: Uint8Array[] = [];
  const lengths: number[] = [];
  for (const d of blocks) {
    if (!d) continue;
    const l = d.logs;
    for (let i = 0; i < l.count; i++) {
      const a = l.msgStart[i]!;
      const bytes = encoder.encode(decoder.decode(d.tables.bytes.subarray(a, a + l.msgOffsets[i + 1]! - l.msgOffsets[i]!)));
      parts.push(bytes);
      lengths.push(bytes.length);
    }
  }
  const offsets = new Int32Array(lengths.length + 1);
  lengths.forEach((n, i) => (offsets[i + 1] = offsets[i]! + n));
  const data = new Uint8Array(offsets[lengths.length]!);
  parts.forEach((p, i) => data.set(p, offsets[i]!));
  return { data, offsets };
}

export function stagedLogEntries(blocks: readonly SourceBlock[], decoded: readonly (BlockColumns | null)[]): StagedRows {
  let rows = 0;
  let msgBytes = 0;
  for (const d of decoded) {
    if (!d) continue;
    rows += d.logs.count;
    msgBytes += d.logs.msgOffsets[d.logs.count]!;
  }
  const consts = new BlockConstants();
  const time = new Int32Array(2 * rows);
  const target = new Uint32Array(rows);
  const targets = new TextDictionary();
  const level = new Int32Array(rows);
  // Messages the client packed (codec 2) go into Parquet as they came, still compressed (ingestion checked
  // them, see decodeStoredBlock): decompressed and copied into one buffer only if something reads them (another
  // block's page, the DuckDB writer, a reorder).
  let msgData: Uint8Array | null = null;
  const buffer = () => (msgData ??= new Uint8Array(msgBytes));
  const notCopied: { d: BlockColumns; at: number }[] = [];
  const msgOffsets = new Int32Array(rows + 1);
  const props = new PropertyColumn(rows);
  let at = 0;
  let msgAt = 0;
  let valid = true;
  const sorted = new SortedTimes(time);
  const ends: number[] = [];
  const packed: (Uint8Array | null)[] = [];
  blocks.forEach((b, bi) => {
    const d = decoded[bi];
    if (!d || d.logs.count === 0) return;
    const { logs, tables } = d;
    const n = logs.count;
    fillTimes(time, at, b, logs.ticks, n);
    sorted.block(at, n, ascending(logs.ticks, n));
    remapInto(target, at, logs.target, targets.remap(tables.strings), n);
    level.set(logs.level, at);
    rebaseOffsets(msgOffsets, at, logs.msgOffsets, n, msgAt);
    if (d.packedMessages) notCopied.push({ d, at: msgAt });
    else {
      // each message is copied once, from the decompressed payload straight into the batch's buffer
      gatherMessages(tables.bytes, logs.msgStart, logs.msgOffsets, n, buffer(), msgAt);
      valid &&= backToBackUtf8(buffer(), 0, msgOffsets, at, n);
    }
    msgAt += logs.msgOffsets[n]!;
    props.fill(at, logs, tables.strings, n);
    at += n;
    ends.push(at);
    packed.push(d.packedMessages ?? null);
    consts.push(b, at);
  });
  const copyRest = (into: Uint8Array) => {
    for (const { d, at } of notCopied) gatherMessages(d.tables.bytes, d.logs.msgStart, d.logs.msgOffsets, d.logs.count, into, at);
    return into;
  };
  // only a block stored by hand (or before ingestion checked messages) carries invalid UTF-8: then every message is
  // re-encoded, the slow way
  const replaced = valid ? null : replacedMessages(decoded);
  // the data of a batch whose messages all stayed in their payloads is copied on first read, if any
  let data = replaced?.data ?? (msgData !== null ? copyRest(msgData) : undefined);
  // the client's LZ4 blocks of messages are reused as Parquet pages when the bytes are the ones staged
  const blockEnds = valid && packed.some((p) => p !== null) ? Int32Array.from(ends) : undefined;
  const msg: StagingColumn = {
    name: 'msg',
    kind: 'text',
    get data() {
      return (data ??= copyRest(buffer()));
    },
    offsets: replaced?.offsets ?? msgOffsets,
    ...(blockEnds ? { packed: { ends: blockEnds, lz4: packed } } : {}),
  };
  const { head, processProperties } = consts.columns();
  return {
    length: rows,
    sortedBy: sorted.all ? 'time' : null,
    ...(blockEnds ? { cuts: blockEnds } : {}),
    columns: [
      ...head,
      { name: 'time', kind: 'int64', values: time },
      { name: 'target', kind: 'dict-text', dictionary: targets.values, indices: { perRow: target } },
      { name: 'level', kind: 'int32', values: level },
      msg,
      props.column(),
      processProperties,
    ],
  };
}

/**
 * Whether a batch's staged times ascend, told block by block as they are staged instead of by a pass over the
 * whole column: inside a block from its ticks (event times are ticks rounded, so they keep their order), and
 * one comparison where each block meets the one before. Ticks out of order whose times tie say no: the writer
 * then sorts rows that were in order, which changes nothing.
 */
class SortedTimes {
  all = true;

  constructor(private readonly time: Int32Array) {}

  /** Rows [at, at + n) were just staged; `inOrder`: their times ascend. */
  block(at: number, n: number, inOrder: boolean): void {
    if (n === 0) return;
    this.all &&= inOrder && (at === 0 || timeLe(this.time, at - 1, at));
  }
}

function ascending(t: Float64Array, count: number): boolean {
  for (let i = 1; i < count; i++) if (t[i]! < t[i - 1]!) return false;
  return true;
}

interface MetricTargets {
  /** the block's ticks in staged order (scratch, at 0) */
  ticks: Float64Array;
  target: Uint32Array;
  name: Uint32Array;
  unit: Uint32Array;
  value: Float64Array;
}

/**
 * A block's integer and float metrics, each in time order, merged by ticks as they are staged (the clock's own
 * order, which event times — ticks rounded to ns — keep; ints first on equal ticks), so a stream's consecutive
 * blocks stage already sorted and the writer skips its sort. Each value is written once, in its final place; staging the
 * kinds one after the other and permuting them afterwards cost a fifth of the metrics ETL.
 */
function stageMergedMetrics(ints: IntMetricColumns, floats: FloatMetricColumns, remap: BlockRemap, at: number, out: MetricTargets): void {
  const { ticks, target, name, unit, value } = out;
  const ni = ints.count;
  const nf = floats.count;
  // every array in a local: loads through the column objects were repeated each iteration
  const { ticks: iT, target: iTarget, name: iName, unit: iUnit } = ints;
  const { ticks: fT, target: fTarget, name: fName, unit: fUnit, value: fValue } = floats;
  // Number(bigint) rounds to nearest; hi·2³² + lo (unsigned) is exact before one rounding, so it agrees
  const halves = new Int32Array(ints.value.buffer, ints.value.byteOffset, 2 * ni);
  let i = 0;
  let j = 0;
  for (let o = 0; o < ni + nf; o++) {
    const k = at + o;
    if (j >= nf || (i < ni && iT[i]! <= fT[j]!)) {
      ticks[o] = iT[i]!;
      target[k] = remap.id(iTarget[i]!);
      name[k] = remap.id(iName[i]!);
      unit[k] = remap.id(iUnit[i]!);
      value[k] = halves[2 * i + 1]! * TWO32 + (halves[2 * i]! >>> 0);
      i++;
    } else {
      ticks[o] = fT[j]!;
      target[k] = remap.id(fTarget[j]!);
      name[k] = remap.id(fName[j]!);
      unit[k] = remap.id(fUnit[j]!);
      value[k] = fValue[j]!;
      j++;
    }
  }
}

export function stagedMeasures(blocks: readonly SourceBlock[], decoded: readonly (TransitColumns | null)[]): StagedRows {
  let rows = 0;
  for (const d of decoded) if (d) rows += d.intMetrics.count + d.floatMetrics.count;
  const consts = new BlockConstants();
  const time = new Int32Array(2 * rows);
  const strings = new TextDictionary();
  const target = new Uint32Array(rows);
  const name = new Uint32Array(rows);
  const unit = new Uint32Array(rows);
  const value = new Float64Array(rows);
  const props = new PropertyColumn(rows);
  let scratch = new Float64Array(0);
  const sorted = new SortedTimes(time);
  let at = 0;
  blocks.forEach((b, bi) => {
    const d = decoded[bi];
    if (!d) return;
    const ints = d.intMetrics;
    const floats = d.floatMetrics;
    const n = ints.count + floats.count;
    if (n === 0) return;
    const remap = strings.remap(d.tables.strings);
    // Properties are laid out event by event in staged order, so blocks that carry some stage kind by kind (and
    // the writer sorts); so do kinds out of time order
    if (ints.propOffsets[ints.count] === 0 && floats.propOffsets[floats.count] === 0 && ascending(ints.ticks, ints.count) && ascending(floats.ticks, floats.count)) {
      if (scratch.length < n) scratch = new Float64Array(Math.max(n, 2 * scratch.length));
      stageMergedMetrics(ints, floats, remap, at, { ticks: scratch, target, name, unit, value });
      fillTimes(time, at, b, scratch, n);
      sorted.block(at, n, true);
      // no event has properties: every row's offsets are the same, whatever the order
      props.fill(at, ints, d.tables.strings, ints.count);
      props.fill(at + ints.count, floats, d.tables.strings, floats.count);
      at += n;
    } else {
      const metric = (m: MetricColumns) => {
        fillTimes(time, at, b, m.ticks, m.count);
        remapInto(target, at, m.target, remap, m.count);
        remapInto(name, at, m.name, remap, m.count);
        remapInto(unit, at, m.unit, remap, m.count);
        props.fill(at, m, d.tables.strings, m.count);
      };
      metric(ints);
      const halves = new Int32Array(ints.value.buffer, ints.value.byteOffset, 2 * ints.count);
      for (let i = 0; i < ints.count; i++) value[at + i] = halves[2 * i + 1]! * TWO32 + (halves[2 * i]! >>> 0);
      at += ints.count;
      metric(floats);
      value.set(floats.value, at);
      at += floats.count;
      sorted.block(at - n, n, timesAscend(time, at - n, at));
    }
    consts.push(b, at);
  });
  const { head, processProperties } = consts.columns();
  const dict = (n: string, ids: Uint32Array): StagingColumn => ({ name: n, kind: 'dict-text', dictionary: strings.values, indices: { perRow: ids } });
  return {
    length: rows,
    sortedBy: sorted.all ? 'time' : null,
    columns: [
      ...head,
      { name: 'time', kind: 'int64', values: time },
      dict('target', target),
      dict('name', name),
      dict('unit', unit),
      { name: 'value', kind: 'double', values: value },
      props.column(),
      processProperties,
    ],
  };
}
