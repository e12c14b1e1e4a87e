/**
 * The direct writer stores the time column as DELTA_BINARY_PACKED and falls back to plain values when a
 * delta is too wide to compute exactly. Times that are unsorted, negative, around 32-bit boundaries, far
 * apart or all equal must read back through DuckDB exactly, in file order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeDirectParquet } from '../../src/lakehouse/direct-parquet-writer.js';
import { withConnection } from '../../src/lakehouse/duckdb-engine.js';

function seeded(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
}

const r = seeded(7);
const base = 1_763_890_000_000_000_000n;
const cases: [string, bigint[]][] = [
  ['sorted with jitter', Array.from({ length: 3000 }, (_, i) => base + BigInt(i * 150000 + Math.floor(r() * 1000)))],
  ['random ±2^39', Array.from({ length: 3000 }, () => base + BigInt(Math.floor((r() - 0.5) * 2 ** 40)))],
  ['jumps across the whole int64 range', Array.from({ length: 1000 }, (_, i) => (i % 2 ? base : -base) + BigInt(i))],
  ['jumps of up to 2^34', Array.from({ length: 1000 }, (_, i) => base + BigInt(Math.floor(r() * 2 ** 33)) * BigInt(i % 3))],
  ['negatives at 32-bit edges', Array.from({ length: 777 }, (_, i) => BigInt(i % 5 === 0 ? -1 : 1) * (2n ** 32n - 1n + BigInt(i)))],
  ['unsorted within 2^25', Array.from({ length: 3000 }, () => base + BigInt(Math.floor(r() * 2 ** 25)))],
  ['unsorted within 2^27', Array.from({ length: 3000 }, () => base + BigInt(Math.floor(r() * 2 ** 27)))],
  ['unsorted within 2^29', Array.from({ length: 3000 }, () => base + BigInt(Math.floor(r() * 2 ** 29)))],
  ['unsorted within 2^30', Array.from({ length: 3000 }, () => base + BigInt(Math.floor(r() * 2 ** 30)))],
  ['unsorted within 2^31', Array.from({ length: 3000 }, () => base + BigInt(Math.floor(r() * 2 ** 31)))],
  ['unsorted near a negative base', Array.from({ length: 3000 }, () => -base + BigInt(Math.floor(r() * 2 ** 20)))],
  ['low 32 bits wrapping', Array.from({ length: 3000 }, (_, i) => 2n ** 32n * 5n - 1_500_000n + BigInt(i * 1000 + Math.floor(r() * 7)))],
  ['around zero', Array.from({ length: 500 }, (_, i) => BigInt(i - 250) * 12345n)],
  ['one value', [base]],
  ['all equal', Array.from({ length: 300 }, () => base)],
];

test('time columns read back exactly, whatever their deltas', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sirius-delta-'));
  try {
    for (const [name, times] of cases) {
      const values = new Int32Array(new BigInt64Array(times).buffer);
      const staged = { length: times.length, sortedBy: null, columns: [{ name: 'time', kind: 'int64', values }] };
      const chunks = encodeDirectParquet(
        [{ name: 'time', type: 'TIMESTAMP_NS' }] as Parameters<typeof encodeDirectParquet>[0],
        staged as unknown as Parameters<typeof encodeDirectParquet>[1],
        { rowGroup: 1000 },
      );
      const path = join(dir, `${name.replace(/\W/g, '_')}.parquet`);
      await writeFile(path, Buffer.concat(chunks));
      const got = await withConnection(async (c) =>
        (await c.runAndReadAll(`SELECT epoch_ns(time)::VARCHAR AS t FROM read_parquet('${path}', file_row_number = true) ORDER BY file_row_number`)).getRowObjects(),
      );
      assert.equal(got.length, times.length, name);
      const firstBad = got.findIndex((row, i) => BigInt(row.t as string) !== times[i]);
      assert.equal(firstBad, -1, `${name}: row ${firstBad} reads ${got[firstBad]?.t}, wrote ${times[firstBad]}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
