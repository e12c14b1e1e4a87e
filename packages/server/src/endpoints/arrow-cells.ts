/**
 * Random access to one Arrow column's cells across its record-batch chunks, for the encoders that write
 * results out row by row (JSON, PostgreSQL wire): which chunk holds a row, whether it is null, and the raw
 * integer behind 64-bit and date cells without going through `Vector.get`'s boxing.
 *
 * @example
 *   const cells = cellsOf(table.getChildAt(0)!);
 *   if (!cells.isNull(3)) console.log(cells.int64(3));
 */
import type { Vector } from 'apache-arrow';

export interface Cells {
  isNull(row: number): boolean;
  /** the raw 64-bit integer behind timestamp/time/int64/uint64 cells */
  int64(row: number): bigint;
  /** the raw 32-bit integer behind date cells */
  int32(row: number): number;
}

/** the raw 64-bit integers behind a chunk (Arrow may hand them over as Int32Array pairs) */
function int64Values(values: unknown): BigInt64Array | BigUint64Array {
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) return values;
  const i32 = values as Int32Array;
  return new BigInt64Array(i32.buffer, i32.byteOffset, i32.length >> 1);
}

export function cellsOf(vector: Vector): Cells {
  const chunks = vector.data;
  const starts: number[] = [];
  let acc = 0;
  for (const d of chunks) {
    starts.push(acc);
    acc += d.length;
  }
  /** the chunk holding `row`, and the row's slot in that chunk's buffers (its offset included) */
  const locate = (row: number): [number, number] => {
    let k = chunks.length - 1;
    while (k > 0 && starts[k]! > row) k--;
    return [k, row - starts[k]! + chunks[k]!.offset];
  };
  let raw64: (BigInt64Array | BigUint64Array)[] | undefined;
  return {
    isNull(row) {
      const [k, i] = locate(row);
      const d = chunks[k]!;
      if (d.nullCount === 0 || !d.nullBitmap || d.nullBitmap.length === 0) return false;
      return (d.nullBitmap[i >> 3]! & (1 << (i & 7))) === 0;
    },
    int64(row) {
      const [k, i] = locate(row);
      raw64 ??= chunks.map((d) => int64Values(d.values));
      return BigInt(raw64[k]![i]!);
    },
    int32(row) {
      const [k, i] = locate(row);
      return (chunks[k]!.values as unknown as Int32Array)[i]!;
    },
  };
}
