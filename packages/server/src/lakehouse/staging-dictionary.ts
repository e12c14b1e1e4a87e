/**
 * Dictionaries shared by all blocks of one staging file. Each block numbers its strings from 0 (transit's
 * interning is per block); `BlockRemap` turns those local ids into ids of one batch-wide dictionary, looking a
 * string up once per block rather than once per event.
 *
 * @example
 *   const d = new TextDictionary();
 *   const remap = d.remap(tables.strings);
 *   ids[i] = remap.id(logs.target[i]!);
 */
const utf8 = new TextEncoder();

export class TextDictionary {
  readonly values: Uint8Array[] = [];
  private readonly ids = new Map<string, number>();

  /** The id of `s`, adding it on first sight. */
  add(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.values.length;
      this.ids.set(s, id);
      this.values.push(utf8.encode(s));
    }
    return id;
  }

  /** Maps one block's string table onto this dictionary, lazily. */
  remap(strings: readonly string[]): BlockRemap {
    return new BlockRemap(this, strings);
  }
}

export class BlockRemap {
  /** batch-wide ids of the strings looked up so far, -1 for the others */
  private readonly known: Int32Array;

  constructor(
    private readonly dict: TextDictionary,
    private readonly strings: readonly string[],
  ) {
    this.known = new Int32Array(strings.length).fill(-1);
  }

  /** The batch-wide id of the block's string `local`. Small enough to inline into per-row loops; the first use of a string takes `add`. */
  id(local: number): number {
    const g = this.known[local]!;
    return g >= 0 ? g : this.add(local);
  }

  private add(local: number): number {
    const s = this.strings[local];
    if (s === undefined) throw new RangeError(`string id ${local} is not in the block's table (${this.strings.length} strings)`);
    return (this.known[local] = this.dict.add(s));
  }
}

/**
 * Per-block constant columns as runs: one run per block that has rows, ids into a dictionary (-1 for null).
 * Runs cost nothing per row to build and encode as one RLE run each.
 */
export class RunColumn {
  private readonly ends: number[] = [];
  private readonly ids: number[] = [];

  push(end: number, id: number): void {
    this.ends.push(end);
    this.ids.push(id);
  }

  get indices(): { runEnds: Int32Array; runIds: Int32Array } {
    return { runEnds: Int32Array.from(this.ends), runIds: Int32Array.from(this.ids) };
  }
}

/** A dictionary of int64 values given as bigints, stored as (lo, hi) pairs. */
export class Int64Dictionary {
  private readonly values: bigint[] = [];
  private readonly ids = new Map<bigint, number>();

  add(v: bigint): number {
    let id = this.ids.get(v);
    if (id === undefined) {
      id = this.values.length;
      this.ids.set(v, id);
      this.values.push(v);
    }
    return id;
  }

  get pairs(): Int32Array {
    return new Int32Array(BigInt64Array.from(this.values).buffer);
  }
}
