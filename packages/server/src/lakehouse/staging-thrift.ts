/**
 * The slice of Thrift's compact protocol that Parquet footers and page headers need: structs of i32/i64,
 * binary, lists and nested structs. Hand-written because the staging writer emits a handful of fixed
 * structures and a general Thrift library would cost a dependency for ~80 lines.
 *
 * A struct is written as `[fieldId, value]` pairs in increasing id order; values are tagged so the
 * encoder knows the wire type.
 *
 * @example
 *   const bytes = thriftStruct([[1, i32(0)], [2, i32(42)], [3, i32(42)]]);
 */

export type ThriftValue =
  | { t: 'i32'; v: number }
  | { t: 'i64'; v: number }
  | { t: 'bin'; v: Uint8Array }
  /** only as a struct field: compact protocol folds the value into the field header */
  | { t: 'bool'; v: boolean }
  | { t: 'list'; elem: 'i32' | 'bin' | 'struct'; v: ThriftValue[] }
  | { t: 'struct'; v: ThriftField[] };

export type ThriftField = [id: number, value: ThriftValue | undefined];

export const i32 = (v: number): ThriftValue => ({ t: 'i32', v });
export const i64 = (v: number): ThriftValue => ({ t: 'i64', v });
export const bool = (v: boolean): ThriftValue => ({ t: 'bool', v });
export const bin = (v: Uint8Array): ThriftValue => ({ t: 'bin', v });
export const str = (s: string): ThriftValue => ({ t: 'bin', v: new TextEncoder().encode(s) });
export const struct = (fields: ThriftField[]): ThriftValue => ({ t: 'struct', v: fields });
export const list = (elem: 'i32' | 'bin' | 'struct', v: ThriftValue[]): ThriftValue => ({ t: 'list', elem, v });

const WIRE = { bool: 1, i32: 5, i64: 6, bin: 8, list: 9, struct: 12 } as const;

/** Encodes one top-level struct (a Parquet PageHeader or FileMetaData). */
export function thriftStruct(fields: ThriftField[]): Uint8Array {
  const out: number[] = [];
  writeStruct(out, fields);
  return Uint8Array.from(out);
}

function varint(out: number[], n: number): void {
  // n is a non-negative integer below 2^53: split with arithmetic, not 32-bit shifts
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
}

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

function writeStruct(out: number[], fields: ThriftField[]): void {
  let last = 0;
  for (const [id, value] of fields) {
    if (value === undefined) continue;
    if (id <= last) throw new Error(`thrift: field ids must increase (${id} after ${last})`);
    const delta = id - last;
    // a bool field's type nibble is its value: 1 true, 2 false
    const wire = value.t === 'bool' ? (value.v ? 1 : 2) : WIRE[value.t];
    if (delta <= 15) out.push((delta << 4) | wire);
    else {
      out.push(wire);
      varint(out, zigzag(id));
    }
    last = id;
    writeValue(out, value);
  }
  out.push(0);
}

function writeValue(out: number[], value: ThriftValue): void {
  switch (value.t) {
    case 'bool':
      return; // already in the field header

    case 'i32':
    case 'i64':
      if (!Number.isSafeInteger(value.v)) throw new Error(`thrift: ${value.v} is not an integer`);
      varint(out, zigzag(value.v));
      return;
    case 'bin':
      varint(out, value.v.length);
      for (const b of value.v) out.push(b);
      return;
    case 'list': {
      const n = value.v.length;
      if (n < 15) out.push((n << 4) | WIRE[value.elem]);
      else {
        out.push(0xf0 | WIRE[value.elem]);
        varint(out, n);
      }
      for (const e of value.v) {
        if (e.t !== value.elem) throw new Error(`thrift: list of ${value.elem} holds a ${e.t}`);
        writeValue(out, e);
      }
      return;
    }
    case 'struct':
      writeStruct(out, value.v);
  }
}
