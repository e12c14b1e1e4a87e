import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withConnection, sqlString } from '../../src/lakehouse/duckdb-engine.js';
import { StagingError, writeStagingParquet, type StagingColumn } from '../../src/lakehouse/staging-parquet.js';
import { i32, i64, list, str, struct, thriftStruct } from '../../src/lakehouse/staging-thrift.js';

const te = new TextEncoder();

function int64Pairs(values: bigint[]): Int32Array {
  return new Int32Array(BigInt64Array.from(values).buffer);
}

async function readBack(path: string): Promise<{ types: string[]; rows: unknown[][] }> {
  return withConnection(async (c) => {
    const d = await c.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sqlString(path)})`);
    const r = await c.runAndReadAll(`SELECT * FROM read_parquet(${sqlString(path)})`);
    return { types: d.getRows().map((x) => `${x[0]} ${x[1]}`), rows: r.getRows() };
  });
}

test('thrift compact: field deltas, long ids, zigzag, lists', () => {
  assert.deepEqual([...thriftStruct([[1, i32(0)], [2, i32(-1)], [3, i64(300)]])], [0x15, 0, 0x15, 1, 0x16, 0xd8, 0x04, 0]);
  // field id jump > 15: type byte then zigzag id
  assert.deepEqual([...thriftStruct([[20, i32(1)]])], [0x05, 40, 2, 0]);
  assert.deepEqual([...thriftStruct([[1, list('bin', [str('a')])]])], [0x19, 0x18, 1, 0x61, 0]);
  assert.deepEqual([...thriftStruct([[1, struct([[1, i32(1)]])]])], [0x1c, 0x15, 2, 0, 0]);
  assert.throws(() => thriftStruct([[2, i32(0)], [1, i32(0)]]), /must increase/);
});

test('staging parquet round-trips every column kind through DuckDB, across row groups', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sirius-staging-'));
  try {
    const msgs = ['hello', 'wörld', '', 'x'.repeat(100), '日本', 'last', 'z'];
    const n = msgs.length;
    const data = te.encode(msgs.join(''));
    const offsets = new Int32Array(n + 1);
    msgs.forEach((m, i) => (offsets[i + 1] = offsets[i]! + te.encode(m).length));
    const times = [1_763_890_000_000_000_000n, -5n, 0n, 2n ** 40n, 9_007_199_254_740_993n, -(2n ** 63n), 2n ** 63n - 1n];
    const dict = ['a', 'bb', 'ccc'].map((s) => te.encode(s));
    const columns: StagingColumn[] = [
      { name: 'level', kind: 'int32', values: Int32Array.of(1, 2, 3, 4, 5, -6, 2 ** 31 - 1) },
      { name: 't', kind: 'int64', values: int64Pairs(times) },
      { name: 'v', kind: 'double', values: Float64Array.of(1.5, -2, 0.1, 1e300, 0, -0, 7) },
      { name: 'msg', kind: 'text', data, offsets },
      { name: 'props', kind: 'text', data, offsets, present: Uint8Array.of(0, 1, 1, 0, 0, 1, 1) },
      { name: 'target', kind: 'dict-text', dictionary: dict, indices: { perRow: Uint32Array.of(2, 1, 0, 0, 2, 1, 1) } },
      { name: 'blk', kind: 'dict-text', dictionary: dict, nullable: true, indices: { runEnds: Int32Array.of(2, 3, 6, 7), runIds: Int32Array.of(0, -1, 1, -1) } },
      { name: 'ins', kind: 'dict-int64', dictionary: int64Pairs([7n, -8n]), indices: { runEnds: Int32Array.of(3, 7), runIds: Int32Array.of(1, 0) } },
    ];
    const path = join(dir, 's.parquet');
    await writeStagingParquet(path, n, columns, 3); // row groups of 3 rows: runs and messages straddle them
    const { types, rows } = await readBack(path);
    assert.deepEqual(types, ['level INTEGER', 't BIGINT', 'v DOUBLE', 'msg VARCHAR', 'props VARCHAR', 'target VARCHAR', 'blk VARCHAR', 'ins BIGINT']);
    const blk = ['a', 'a', null, 'bb', 'bb', 'bb', null];
    const target = ['ccc', 'bb', 'a', 'a', 'ccc', 'bb', 'bb'];
    const props = [0, 1, 1, 0, 0, 1, 1];
    rows.forEach((r, i) => {
      assert.deepEqual(r, [
        (columns[0] as { values: Int32Array }).values[i],
        times[i],
        (columns[2] as { values: Float64Array }).values[i],
        msgs[i],
        props[i] ? msgs[i] : null,
        target[i],
        blk[i],
        i < 3 ? -8n : 7n,
      ]);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('staging parquet: wide dictionaries use 16-bit indices; empty files read as zero rows', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sirius-staging-'));
  try {
    const dict = Array.from({ length: 300 }, (_, i) => te.encode(`s${i}`));
    const ids = Uint32Array.from({ length: 1000 }, (_, i) => (i * 7) % 300);
    await writeStagingParquet(join(dir, 'w.parquet'), 1000, [{ name: 's', kind: 'dict-text', dictionary: dict, indices: { perRow: ids } }], 256);
    const { rows } = await readBack(join(dir, 'w.parquet'));
    assert.deepEqual(rows.map((r) => r[0]), [...ids].map((i) => `s${i}`));
    await writeStagingParquet(join(dir, 'e.parquet'), 0, [
      { name: 'a', kind: 'int32', values: new Int32Array(0) },
      { name: 'b', kind: 'dict-text', dictionary: [], indices: { runEnds: new Int32Array(0), runIds: new Int32Array(0) }, nullable: true },
    ]);
    assert.deepEqual((await readBack(join(dir, 'e.parquet'))).rows, []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('staging parquet rejects columns that do not match the row count or their dictionary', async () => {
  const write = (c: StagingColumn, rows = 2) => writeStagingParquet('/nonexistent/never-written.parquet', rows, [c]);
  await Promise.all([
    assert.rejects(write({ name: 'a', kind: 'int32', values: Int32Array.of(1) }), StagingError),
    assert.rejects(write({ name: 'a', kind: 'int64', values: Int32Array.of(1, 2) }), StagingError),
    assert.rejects(write({ name: 'a', kind: 'text', data: new Uint8Array(1), offsets: Int32Array.of(0, 1, 5) }), /past the data/),
    assert.rejects(write({ name: 'a', kind: 'dict-text', dictionary: [te.encode('x')], indices: { runEnds: Int32Array.of(2), runIds: Int32Array.of(1) } }), /out of range/),
    assert.rejects(write({ name: 'a', kind: 'dict-text', dictionary: [te.encode('x')], indices: { runEnds: Int32Array.of(2), runIds: Int32Array.of(-1) } }), /out of range/),
    assert.rejects(write({ name: 'a', kind: 'dict-int64', dictionary: Int32Array.of(1, 0), indices: { runEnds: Int32Array.of(1), runIds: Int32Array.of(0) } }), /do not cover/),
  ]);
});
