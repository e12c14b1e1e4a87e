import { ByteWriter, encodeUtf8 } from './byte-writer.js';

/**
 * Interning that lives as long as the encoder (one stream) but numbers ids per block.
 *
 * Each string is UTF-8 encoded once per stream and remembered; the first time a block uses it, it gets the
 * block's next id and its definition is appended to that block's string table. Ids on the wire are therefore
 * dense and block-local (0, 1, 2… in definition order), so every block decodes alone and a decoder can use
 * them directly as dictionary indices, while the client does the expensive work once per stream.
 */
interface StringEntry {
  bytes: Uint8Array;
  id: number;
  gen: number;
}

/** Bound on remembered strings, so unique property values cannot grow the encoder without limit. */
const MAX_REMEMBERED = 65536;

export class StringTable {
  readonly out = new ByteWriter(256);
  count = 0;
  gen = 1;
  private readonly entries = new Map<string, StringEntry>();

  /** The block-local id of `s`, defining it in this block's table if needed. */
  id(s: string): number {
    let e = this.entries.get(s);
    if (e === undefined) {
      if (this.entries.size >= MAX_REMEMBERED) this.entries.clear();
      e = { bytes: encodeUtf8(s), id: 0, gen: 0 };
      this.entries.set(s, e);
    }
    if (e.gen !== this.gen) {
      e.gen = this.gen;
      e.id = this.count++;
      this.out.varuint(e.bytes.length);
      this.out.bytes(e.bytes);
    }
    return e.id;
  }

  /** Starts a new block: ids restart at 0 and definitions are written again on first use. */
  nextBlock(): void {
    this.gen++;
    this.count = 0;
    this.out.reset();
  }
}

interface SpanDescEntry {
  target: string;
  filename: string;
  line: number;
  id: number;
  gen: number;
}

/** Span descriptors (name, target, filename, line), interned the same way so a span event is two bytes. */
export class SpanDescTable {
  readonly out = new ByteWriter(128);
  count = 0;
  gen = 1;
  private readonly byName = new Map<string, SpanDescEntry[]>();
  private size = 0;

  id(strings: StringTable, name: string, target: string, filename: string, line: number): number {
    let list = this.byName.get(name);
    if (list === undefined) {
      if (this.size >= MAX_REMEMBERED) {
        this.byName.clear();
        this.size = 0;
      }
      list = [];
      this.byName.set(name, list);
    }
    let e: SpanDescEntry | undefined;
    for (let i = 0; i < list.length; i++) {
      const c = list[i]!;
      if (c.line === line && c.target === target && c.filename === filename) {
        e = c;
        break;
      }
    }
    if (e === undefined) {
      e = { target, filename, line, id: 0, gen: 0 };
      list.push(e);
      this.size++;
    }
    if (e.gen !== this.gen) {
      const n = strings.id(name);
      const t = strings.id(target);
      const f = strings.id(filename);
      e.gen = this.gen;
      e.id = this.count++;
      this.out.varuint(n);
      this.out.varuint(t);
      this.out.varuint(f);
      this.out.varuint(line);
    }
    return e.id;
  }

  nextBlock(): void {
    this.gen++;
    this.count = 0;
    this.out.reset();
  }
}

interface MetricDescEntry {
  unit: string;
  target: string;
  id: number;
  gen: number;
}

/** Metric descriptors (name, unit, target): a metric sample is a tag, a descriptor id and its value. */
export class MetricDescTable {
  readonly out = new ByteWriter(64);
  count = 0;
  gen = 1;
  private readonly byName = new Map<string, MetricDescEntry[]>();
  private size = 0;

  id(strings: StringTable, name: string, unit: string, target: string): number {
    let list = this.byName.get(name);
    if (list === undefined) {
      if (this.size >= MAX_REMEMBERED) {
        this.byName.clear();
        this.size = 0;
      }
      list = [];
      this.byName.set(name, list);
    }
    let e: MetricDescEntry | undefined;
    for (let i = 0; i < list.length; i++) {
      const c = list[i]!;
      if (c.unit === unit && c.target === target) {
        e = c;
        break;
      }
    }
    if (e === undefined) {
      e = { unit, target, id: 0, gen: 0 };
      list.push(e);
      this.size++;
    }
    if (e.gen !== this.gen) {
      const n = strings.id(name);
      const u = strings.id(unit);
      const t = strings.id(target);
      e.gen = this.gen;
      e.id = this.count++;
      this.out.varuint(n);
      this.out.varuint(u);
      this.out.varuint(t);
    }
    return e.id;
  }

  nextBlock(): void {
    this.gen++;
    this.count = 0;
    this.out.reset();
  }
}
