/**
 * How far a block's rows may outgrow the block. Everything the lakehouse builds from a block is bounded by the
 * block's payload (the decoder checks every count against the bytes left, and LZ4 expands at most 255×) except
 * property maps: an event names its properties by string ids, two bytes a pair, and each row spells its map
 * out as JSON. A 4 KB block whose hundred events all name one 1 MB string as key and value became 200 MB
 * of JSON in the daemon; a 181 KB block can hold millions of such events. So a block's property text (the JSON
 * of every event's map, each string escaped as JSON writes it) may be at most `EXPANSION_RATIO` bytes per stored
 * byte, plus `EXPANSION_ALLOWANCE`: ingestion refuses a block above (400), and the lakehouse skips one with a
 * logged error (stored before the check, or by other means) instead of allocating for it.
 *
 * Targets, metric names and units are not counted: the lakehouse keeps them as dictionary ids, never per row.
 *
 * @example
 *   const meter = new PropertyText(tables);
 *   meter.add(props, count);                      // per event
 *   checkExpansion(meter.bytes, envelope.byteLength);
 */
import { TransitError, type BlockTables, type PropertyColumns, type TransitColumns } from '@sirius/transit';

/** property text allowed per stored byte: LZ4's own ceiling, so such text is never more than the payload could be */
export const EXPANSION_RATIO = 256;
/** what any block may carry regardless of its size (a small block with a few long values) */
export const EXPANSION_ALLOWANCE = 64 * 1024;

export function expansionLimit(storedBytes: number): number {
  return EXPANSION_RATIO * storedBytes + EXPANSION_ALLOWANCE;
}

/** Throws TransitError('limit_exceeded') when `textBytes` of property text is more than a block of `storedBytes` may hold. */
export function checkExpansion(textBytes: number, storedBytes: number): void {
  const limit = expansionLimit(storedBytes);
  if (textBytes > limit) {
    throw new TransitError('limit_exceeded', `property maps of ${textBytes} bytes as text, more than the ${limit} a block of ${storedBytes} bytes may expand to`);
  }
}

/** Sums the JSON size of events' property maps, from a block's string table (each string measured once). */
export class PropertyText {
  bytes = 0;
  /** JSON bytes of string `i`, -1 until measured */
  private readonly json: Int32Array;

  constructor(private readonly tables: BlockTables) {
    this.json = new Int32Array(tables.strings.length).fill(-1);
  }

  private measure(id: number): number {
    const s = this.tables.strings[id]!;
    // ASCII without anything to escape is most strings: its JSON is its bytes and two quotes
    const n = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/.test(s) ? s.length + 2 : Buffer.byteLength(JSON.stringify(s));
    this.json[id] = n;
    return n;
  }

  /** one event's map: `count` (key id, value id) pairs in `pairs`, as `{"k":"v",…}`; -1 or 0 adds nothing */
  add(pairs: Uint32Array, count: number): void {
    if (count <= 0) return;
    const json = this.json;
    let n = 1;
    for (let k = 0; k < 2 * count; k++) {
      const id = pairs[k]!;
      const m = json[id]!;
      n += m >= 0 ? m : this.measure(id);
    }
    this.bytes += n + 2 * count;
  }

  /** every event's map in decoded columns: each pair's two strings, `:` and `,` (or `}`), and a `{` per map */
  addColumns(c: PropertyColumns, count: number): void {
    const { propOffsets, propKeys, propValues } = c;
    const pairs = propOffsets[count]!;
    if (pairs === 0) return;
    const json = this.json;
    let n = 2 * pairs;
    for (let k = 0; k < pairs; k++) {
      const key = propKeys[k]!;
      const value = propValues[k]!;
      const a = json[key]!;
      const b = json[value]!;
      n += (a >= 0 ? a : this.measure(key)) + (b >= 0 ? b : this.measure(value));
    }
    for (let i = 0; i < count; i++) if (propOffsets[i + 1] !== propOffsets[i]) n++;
    this.bytes += n;
  }
}

/** Throws TransitError when decoded columns' property text is more than a block of `storedBytes` may hold. */
export function checkColumnsExpansion(columns: TransitColumns, storedBytes: number): void {
  const meter = new PropertyText(columns.tables);
  meter.addColumns(columns.logs, columns.logs.count);
  meter.addColumns(columns.intMetrics, columns.intMetrics.count);
  meter.addColumns(columns.floatMetrics, columns.floatMetrics.count);
  checkExpansion(meter.bytes, storedBytes);
}
