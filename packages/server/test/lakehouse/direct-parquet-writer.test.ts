/**
 * The direct writer (staged columns → final partition in JS) must write what DuckDB's COPY writes from the
 * same staged columns: same DuckDB schema, same rows, same row order, plus statistics for pruning.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressSync, uncompressSync } from 'lz4-napi';
import { BlockEncoder, decodeColumns, encodeBlock, lz4SectionsCodec, type Codec, type TransitColumns } from '@sirius/transit';
import { lz4Codec } from '../../src/lake/lz4-codec.js';
import { decodeStoredBlock, type BlockColumns, type SourceBlock } from '../../src/lakehouse/source-blocks.js';
import { logEntriesRows, measuresRows } from '../../src/lakehouse/block-rows.js';
import { withConnection, sqlString } from '../../src/lakehouse/duckdb-engine.js';
import { writeParquet } from '../../src/lakehouse/parquet-writer.js';
import { stagingOf } from '../../src/lakehouse/staging-batch.js';
import { writeDirectParquet } from '../../src/lakehouse/direct-parquet-writer.js';
import { FRESH_PARTITION } from '../../src/lakehouse/block-view-materializer.js';
import { timeOrder } from '../../src/lakehouse/direct-parquet-order.js';
import { ByteSink, LevelRuns, hybrid, lz4BlockSound, lz4Prepend } from '../../src/lakehouse/direct-parquet-encoding.js';
import { logEntriesColumns } from '../../src/lakehouse/view-columns.js';
import { rng } from './span-fixtures.js';
import type { RowBatch } from '../../src/lakehouse/row-batch.js';

const T0 = 1_763_890_000_000_000_000n;

function block(i: number, stream: string, props: Record<string, string>, slot = i): SourceBlock {
  // begin times whose low 32 bits sit just under 2^32, so adding an offset carries into the high word
  const begin = (T0 / 2n ** 32n + BigInt(slot)) * 2n ** 32n + 2n ** 32n - 1000n;
  return {
    block_id: randomUUID(), stream_id: stream, process_id: `p-${stream.slice(0, 4)}`, begin_time: begin, begin_ticks: 0n,
    end_time: begin + 10n ** 9n, end_ticks: 0n, nb_objects: 0, insert_time: i === 5 ? -1n : T0 + BigInt(i % 2), exe: 'gäme.exe',
    username: i % 2 ? 'ann' : "o'brien", computer: 'box', tsc_frequency: 3_000_000_007, start_time: T0, start_ticks: 0n, process_properties: props,
  };
}

interface Fixture {
  blocks: SourceBlock[];
  decoded: (TransitColumns | null)[];
}

/** `streams` streams whose blocks interleave in time, with awkward properties and values. */
function fixture(streams: number, events: number, streamSkew = 13): Fixture {
  const ids = Array.from({ length: streams }, () => randomUUID());
  const enc = ids.map(() => new BlockEncoder());
  const blocks: SourceBlock[] = [];
  const decoded: (TransitColumns | null)[] = [];
  const awkward = [null, { b: '1', a: '2', '10': 'x', '2': 'y' }, { __proto__: 'p', k: 'v' }, { 'quo"te': 'back\\slash\n', émoji: '🎉', '': '' }, {}, { solo: 'x'.repeat(300) }];
  for (let i = 0; i < 6; i++) {
    const s = i % streams;
    const e = enc[s]!;
    for (let k = 0; k < events; k++) {
      const ticks = Math.floor((k * 1e9) / 7) + s * streamSkew; // odd clock rate below: rounding matters
      const props = awkward[(k + i) % awkward.length] as Record<string, string> | null;
      e.log(ticks, k % 7, `t${k % 3}${s ? 'é' : ''}`, k % 5 === 0 ? '' : `msg ${i}/${k} — ü`, props);
      e.intMetric(ticks, `n${k % 4}`, k % 2 ? 'count' : 'bytes', 'tgt', [0n, -1n, 2n ** 53n + 1n, -(2n ** 62n) - 3n, 2n ** 63n - 1n][k % 5]!, props);
      e.floatMetric(ticks + 7, 'f', 'ms', `tgt${k % 2}`, [0.1, -0, 1e300, Number.MIN_VALUE, 12345.678][k % 5]!, props);
    }
    // blocks of different streams share a slot: their events interleave in time
    blocks.push(block(i, ids[s]!, i === 4 ? {} : { env: 'test', ['1']: String(i % 3), 'a"b': 'ü' }, Math.floor(i / streams)));
    decoded.push(decodeColumns(e.finish()));
  }
  // a missing payload, and a block whose messages were corrupted into invalid UTF-8
  blocks.push(block(9, ids[0]!, {}));
  decoded.push(null);
  decoded[3]!.tables.bytes[decoded[3]!.logs.msgStart[1]!] = 0xff;
  return { blocks, decoded };
}

async function withWriter<T>(writer: 'duckdb' | 'direct', f: () => Promise<T>): Promise<T> {
  const before = process.env.SIRIUS_PARQUET_WRITER;
  process.env.SIRIUS_PARQUET_WRITER = writer;
  try {
    return await f();
  } finally {
    if (before === undefined) delete process.env.SIRIUS_PARQUET_WRITER;
    else process.env.SIRIUS_PARQUET_WRITER = before;
  }
}

/** Writes `make()`'s batch both ways and checks DuckDB sees the same thing; returns the direct file's metadata rows. */
async function compareWriters(make: () => RowBatch, orderBy: string | undefined = 'time', tiesMayDiffer = false): Promise<Record<string, unknown>[]> {
  const dir = await mkdtemp(join(tmpdir(), 'sirius-direct-'));
  try {
    const viaDuck = join(dir, 'duck.parquet');
    const direct = join(dir, 'direct.parquet');
    const opts = orderBy === undefined ? {} : { orderBy };
    await withWriter('duckdb', () => writeParquet(make(), viaDuck, opts));
    await withWriter('direct', () => writeParquet(make(), direct, opts));
    return await withConnection(async (c) => {
      const rows = async (sql: string) => (await c.runAndReadAll(sql)).getRowObjectsJson();
      const count = async (sql: string) => Number((await c.runAndReadAll(sql)).getRows()[0]![0]);
      const src = (p: string) => `read_parquet(${sqlString(p)})`;
      const meta = await rows(`SELECT * FROM parquet_metadata(${sqlString(direct)})`);
      // the direct file really is the direct writer's, and LZ4_RAW
      const created = await rows(`SELECT created_by FROM parquet_file_metadata(${sqlString(direct)})`);
      assert.match(String(created[0]!.created_by), /sirius direct/);
      for (const m of meta) assert.equal(m.compression, 'LZ4_RAW');

      const schema = async (p: string) => (await c.runAndReadAll(`DESCRIBE SELECT * FROM ${src(p)}`)).getRows().map((r) => `${r[0]} ${r[1]}`);
      assert.deepEqual(await schema(direct), await schema(viaDuck));
      const n = await count(`SELECT count(*) FROM ${src(viaDuck)}`);
      assert.equal(await count(`SELECT count(*) FROM ${src(direct)}`), n);
      for (const [x, y] of [[direct, viaDuck], [viaDuck, direct]]) {
        const diff = await count(`SELECT count(*) FROM (SELECT * FROM ${src(x!)} EXCEPT ALL SELECT * FROM ${src(y!)})`);
        assert.equal(diff, 0, `rows of ${x} missing from ${y}`);
      }
      // same order: numbered rows must match one for one (DuckDB's sort does not order ties, so with ties only times are compared)
      const numbered = (p: string) => `SELECT row_number() OVER () AS rn, ${tiesMayDiffer ? 'time' : '*'} FROM ${src(p)}`;
      const moved = await count(`SELECT count(*) FROM (${numbered(direct)} EXCEPT ALL ${numbered(viaDuck)})`);
      assert.equal(moved, 0, `${moved} of ${n} rows are in a different position`);
      // statistics that row-group pruning uses
      const stats = await rows(`SELECT path_in_schema, stats_min_value, stats_max_value, stats_null_count FROM parquet_metadata(${sqlString(direct)})`);
      if (n > 0) {
        for (const col of ['time', 'insert_time']) {
          const s = stats.filter((r) => r.path_in_schema === col);
          assert.ok(s.length > 0 && s.every((r) => r.stats_min_value !== null && r.stats_max_value !== null), `${col} has min/max`);
        }
        const [{ lo, hi }] = (await rows(`SELECT min(time)::VARCHAR AS lo, max(time)::VARCHAR AS hi FROM ${src(direct)}`)) as { lo: string; hi: string }[];
        const t = stats.filter((r) => r.path_in_schema === 'time');
        assert.equal(String(t.map((r) => r.stats_min_value).sort()[0]), lo);
        assert.equal(String(t.map((r) => r.stats_max_value).sort().at(-1)), hi);
        assert.ok(stats.filter((r) => r.path_in_schema === 'msg' || r.path_in_schema === 'level').every((r) => r.stats_null_count !== null));
      }
      return meta;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('log_entries, two interleaved streams: direct file = DuckDB file (schema, rows, order, stats)', async () => {
  const f = fixture(2, 40);
  await compareWriters(() => logEntriesRows(f.blocks, f.decoded));
});

test('measures, two interleaved streams: direct file = DuckDB file', async () => {
  const f = fixture(2, 40);
  await compareWriters(() => measuresRows(f.blocks, f.decoded));
});

test('equal times across streams: same multiset, times in the same positions, ties in staged order', async () => {
  const f = fixture(2, 40, 0);
  await compareWriters(() => logEntriesRows(f.blocks, f.decoded), 'time', true);
  await compareWriters(() => measuresRows(f.blocks, f.decoded), 'time', true);
  // the direct writer's ties keep the staged order: stream 0's block before stream 1's in each slot
  const dir = await mkdtemp(join(tmpdir(), 'sirius-direct-'));
  try {
    const p = join(dir, 'ties.parquet');
    await writeParquet(logEntriesRows(f.blocks, f.decoded), p, { orderBy: 'time' });
    const order = f.blocks.map((b) => b.block_id);
    await withConnection(async (c) => {
      const rows = (await c.runAndReadAll(`SELECT time::VARCHAR, block_id FROM read_parquet(${sqlString(p)})`)).getRows();
      let ties = 0;
      for (let i = 1; i < rows.length; i++) {
        if (rows[i]![0] === rows[i - 1]![0] && ++ties) assert.ok(order.indexOf(String(rows[i - 1]![1])) < order.indexOf(String(rows[i]![1])), `tie at row ${i} out of staged order`);
      }
      assert.ok(ties > 10, `the fixture has ties (${ties})`);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('measures without properties: int and float metrics of a block are merged while staging, so one stream needs no sort', async () => {
  const stream = randomUUID();
  const enc = new BlockEncoder();
  const blocks: SourceBlock[] = [];
  const decoded: TransitColumns[] = [];
  for (let i = 0; i < 4; i++) {
    for (let k = 0; k < 50; k++) {
      enc.intMetric(k * 1000, `n${k % 3}`, 'count', 't', BigInt(k * 10 + i));
      enc.floatMetric(k * 1000 + (k % 3) * 500, 'f', 'ms', 't', k + i / 10); // equal times every third event
    }
    blocks.push(block(i, stream, { env: 'x' }));
    decoded.push(decodeColumns(enc.finish()));
  }
  const staged = stagingOf(measuresRows(blocks, decoded))!();
  assert.equal(staged.sortedBy, 'time');
  // ties: the int metric first, as a stable sort of ints-then-floats puts it
  await compareWriters(() => measuresRows(blocks, decoded));
  await compareWriters(() => measuresRows(blocks, decoded), undefined);
});

test('one stream, no ORDER BY, and a batch spanning several row groups', async () => {
  const f = fixture(1, 25_000);
  const meta = await compareWriters(() => logEntriesRows(f.blocks, f.decoded));
  const groups = new Set(meta.map((m) => m.row_group_id));
  assert.ok(groups.size >= 2, `expected several row groups, got ${groups.size}`);
  await compareWriters(() => measuresRows(f.blocks, f.decoded), undefined);
});

test('empty batches: the view schema, no rows', async () => {
  await compareWriters(() => logEntriesRows([], []));
  await compareWriters(() => measuresRows([block(0, randomUUID(), {})], [null]));
});

test('small row groups: every group and page boundary reads back', async () => {
  const f = fixture(3, 60);
  const dir = await mkdtemp(join(tmpdir(), 'sirius-direct-'));
  try {
    const staged = stagingOf(logEntriesRows(f.blocks, f.decoded))!();
    const p = join(dir, 'small.parquet');
    await writeDirectParquet(p, logEntriesColumns, staged, { sortByTime: true, rowGroup: 37 });
    const whole = join(dir, 'whole.parquet');
    await writeDirectParquet(whole, logEntriesColumns, staged, { sortByTime: true });
    await withConnection(async (c) => {
      const n = (await c.runAndReadAll(`SELECT count(DISTINCT row_group_id) FROM parquet_metadata(${sqlString(p)})`)).getRows()[0]![0];
      assert.equal(Number(n), Math.ceil(staged.length / 37));
      const q = (x: string) => `SELECT row_number() OVER () AS rn, * FROM read_parquet(${sqlString(x)})`;
      const diff = (await c.runAndReadAll(`SELECT count(*) FROM (${q(p)} EXCEPT ALL ${q(whole)})`)).getRows()[0]![0];
      assert.equal(Number(diff), 0);
      // pruning: a time range inside one group reads back exactly the matching rows
      const mid = (await c.runAndReadAll(`SELECT time::VARCHAR FROM read_parquet(${sqlString(p)}) ORDER BY time LIMIT 1 OFFSET 100`)).getRows()[0]![0];
      const a = (await c.runAndReadAll(`SELECT count(*) FROM read_parquet(${sqlString(p)}) WHERE time <= '${mid}'::TIMESTAMP_NS`)).getRows()[0]![0];
      const b = (await c.runAndReadAll(`SELECT count(*) FROM read_parquet(${sqlString(whole)}) WHERE time <= '${mid}'::TIMESTAMP_NS`)).getRows()[0]![0];
      assert.equal(Number(a), Number(b));
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('high-cardinality strings: each row group gets its own dictionary, string statistics match DuckDB', async () => {
  const enc = new BlockEncoder();
  const blocks: SourceBlock[] = [];
  const decoded: TransitColumns[] = [];
  const stream = randomUUID();
  for (let i = 0; i < 2; i++) {
    for (let k = 0; k < 3000; k++) enc.log(k * 1000, 3, `target-${i}-${k}`, `m${k}`, { id: `req-${i}-${k}`, [`k${k % 1500}`]: 'v' });
    blocks.push(block(i, stream, { env: 'x' }));
    decoded.push(decodeColumns(enc.finish()));
  }
  const dir = await mkdtemp(join(tmpdir(), 'sirius-direct-'));
  try {
    const staged = stagingOf(logEntriesRows(blocks, decoded))!();
    const small = join(dir, 'small.parquet');
    await writeDirectParquet(small, logEntriesColumns, staged, { sortByTime: true, rowGroup: 500 });
    const duck = join(dir, 'duck.parquet');
    await withWriter('duckdb', () => writeParquet(logEntriesRows(blocks, decoded), duck, { orderBy: 'time' }));
    await withConnection(async (c) => {
      const one = async (sql: string) => (await c.runAndReadAll(sql)).getRows()[0]!;
      for (const [x, y] of [[small, duck], [duck, small]]) {
        const [d] = await one(`SELECT count(*) FROM (SELECT * FROM read_parquet(${sqlString(x!)}) EXCEPT ALL SELECT * FROM read_parquet(${sqlString(y!)}))`);
        assert.equal(Number(d), 0);
      }
      // 12 groups of 500 rows, each dictionary about 500 entries, not the batch's 6000
      const [groups, maxDict] = await one(`SELECT count(DISTINCT row_group_id), max(total_uncompressed_size) FROM parquet_metadata(${sqlString(small)}) WHERE path_in_schema = 'target'`);
      assert.equal(Number(groups), 12);
      assert.ok(Number(maxDict) < 500 * 40, `target chunk of ${maxDict} bytes`);
      const stats = async (p: string, col: string) => one(`SELECT min(stats_min_value), max(stats_max_value) FROM parquet_metadata(${sqlString(p)}) WHERE path_in_schema = '${col}'`);
      for (const col of ['target', 'process_id', 'exe', 'username']) assert.deepEqual(await stats(small, col), await stats(duck, col), col);
      // pruning on a string column still finds the row
      const [n] = await one(`SELECT count(*) FROM read_parquet(${sqlString(small)}) WHERE target = 'target-1-2999'`);
      assert.equal(Number(n), 1);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('messages of wildly varying lengths (delta-encoded lengths) read back exactly', async () => {
  const enc = new BlockEncoder();
  let seed = 12345;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const sizes = (k: number) => (k % 97 === 0 ? 70_000 + rand(1000) : k % 13 === 0 ? 0 : rand(k % 2 ? 40 : 3000));
  for (let k = 0; k < 700; k++) enc.log(k * 1000, 3, 't', 'é'.repeat(rand(3)) + 'x'.repeat(sizes(k)), null);
  const blocks = [block(0, randomUUID(), {})];
  const decoded = [decodeColumns(enc.finish())];
  const dir = await mkdtemp(join(tmpdir(), 'sirius-direct-'));
  try {
    const staged = stagingOf(logEntriesRows(blocks, decoded))!();
    const p = join(dir, 'msgs.parquet');
    await writeDirectParquet(p, logEntriesColumns, staged, { rowGroup: 129 });
    const duck = join(dir, 'duck.parquet');
    await withWriter('duckdb', () => writeParquet(logEntriesRows(blocks, decoded), duck));
    await withConnection(async (c) => {
      const q = (x: string) => `SELECT row_number() OVER () AS rn, msg FROM read_parquet(${sqlString(x)})`;
      for (const [x, y] of [[p, duck], [duck, p]]) {
        const d = (await c.runAndReadAll(`SELECT count(*) FROM (${q(x!)} EXCEPT ALL ${q(y!)})`)).getRows()[0]![0];
        assert.equal(Number(d), 0);
      }
      const total = (await c.runAndReadAll(`SELECT sum(strlen(msg)) FROM read_parquet(${sqlString(p)})`)).getRows()[0]![0];
      assert.ok(Number(total) > 500_000);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('event properties on few rows and on most rows (two level encodings) read back like DuckDB\'s', async () => {
  for (const every of [1, 3, 31, 33, 200]) {
    const enc = new BlockEncoder();
    for (let k = 0; k < 2000; k++) {
      const props: Record<string, string> | null = k % every === 0 ? (k % 3 === 0 ? { a: `${k}`, b: 'x', c: '' } : { a: `${k % 7}` }) : null;
      enc.log(k * 1000, 3, 't', `m${k}`, props);
      enc.floatMetric(k * 1000 + 1, 'f', 'ms', 't', k, props);
    }
    const blocks = [block(0, randomUUID(), {})];
    const decoded = [decodeColumns(enc.finish())];
    await compareWriters(() => logEntriesRows(blocks, decoded));
    await compareWriters(() => measuresRows(blocks, decoded));
  }
});

test('lz4Prepend: one LZ4 block of head + the block\'s bytes, whatever the literal lengths on either side', () => {
  let seed = 7;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const bytes = (n: number, repetitive: boolean) => Uint8Array.from({ length: n }, (_, i) => (repetitive ? (i % 7) + 97 : rand(256)));
  // head lengths around the token's 15 and the extension bytes' 255 steps; blocks starting with short and long literal runs
  for (const headLength of [0, 1, 14, 15, 16, 269, 270, 271, 600]) {
    for (const [n, repetitive] of [[0, false], [3, false], [14, false], [40, false], [300, false], [5000, true], [5000, false]] as const) {
      const head = bytes(headLength, false);
      const data = bytes(n, repetitive);
      const block = compressSync(Buffer.from(data)).subarray(4);
      const spliced = lz4Prepend(head, block);
      const prefixed = Buffer.alloc(4 + spliced.length);
      prefixed.writeUInt32LE(headLength + n, 0);
      prefixed.set(spliced, 4);
      assert.deepEqual(new Uint8Array(uncompressSync(prefixed)), Uint8Array.from([...head, ...data]), `head ${headLength}, data ${n}`);
    }
  }
});

test('LZ4 end-of-block rules: lz4-napi\'s blocks keep them, a block ending in a match is not spliced', async () => {
  let seed = 11;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  for (let k = 0; k < 400; k++) {
    const n = rand(k % 2 ? 60 : 6000);
    const alphabet = 1 + rand(k % 3 ? 4 : 256);
    const data = Uint8Array.from({ length: n }, () => rand(alphabet));
    assert.ok(lz4BlockSound(compressSync(Buffer.from(data)).subarray(4), n), `case ${k}: ${n} bytes over ${alphabet} symbols`);
  }
  // "abcdefgh" as literals, a match of 8 copying it, then one last literal: lz4_flex decodes it, but the match
  // ends within the last five bytes, which the reference decoder need not accept
  const message = 'abcdefghabcdefgh!';
  const endsInMatch = Uint8Array.from([0x84, ...new TextEncoder().encode('abcdefgh'), 8, 0, 0x10, 0x21]);
  assert.deepEqual(new TextDecoder().decode(uncompressSync(Buffer.from([17, 0, 0, 0, ...endsInMatch]))), message);
  assert.equal(lz4BlockSound(endsInMatch, 17), false);
  assert.equal(lz4BlockSound(compressSync(Buffer.from(message)).subarray(4), 17), true);
  const crafted: Codec = {
    id: 1,
    compress: (data) => (new TextDecoder().decode(data) === message ? Uint8Array.from([17, 0, 0, 0, ...endsInMatch]) : lz4Codec.compress(data)),
    decompress: (data, size) => lz4Codec.decompress(data, size),
  };
  const enc = new BlockEncoder();
  enc.log(1000, 3, 't', message, null);
  const b = block(0, randomUUID(), {});
  const d = decodeStoredBlock(encodeBlock({ ...b, process_id: randomUUID(), nb_objects: 1 }, enc.finish(), lz4SectionsCodec(crafted)));
  assert.equal(d.logs.count, 1);
  assert.equal((d as BlockColumns).packedMessages, undefined, 'not spliced: compressed again');
  await compareWriters(() => logEntriesRows([b], [d]));
});

/** A log stream's blocks as the tracing library sends them (codec 2), decoded the way the lakehouse loads them. */
function clientLogBlocks(count: number, events: (b: number) => number, codecFor: (b: number) => Codec = () => lz4SectionsCodec(lz4Codec)): Fixture {
  const stream = randomUUID();
  const enc = new BlockEncoder();
  const blocks: SourceBlock[] = [];
  const decoded: (TransitColumns | null)[] = [];
  for (let b = 0; b < count; b++) {
    const n = events(b);
    for (let k = 0; k < n; k++) enc.log(k * 1000, 1 + (k % 6), `t${k % 3}`, k % 9 === 0 ? '' : `block ${b} line ${k} ${'ü'.repeat(k % 4)}`, k % 5 === 0 ? { k: String(k % 2) } : null);
    const b0 = block(b, stream, { env: 'test' }, b);
    blocks.push(b0);
    decoded.push(decodeStoredBlock(encodeBlock({ ...b0, process_id: randomUUID(), nb_objects: n }, enc.finish(), codecFor(b))));
  }
  return { blocks, decoded };
}

/**
 * LZ4 that compresses nothing: one literal run, a valid block no compressor would emit for repetitive text. A
 * file that holds such a block's bytes got them from the client, not from compressing the messages again.
 */
const literalLz4: Codec = {
  id: 1,
  compress(data) {
    const n = data.length;
    const ext = n >= 15 ? Math.floor((n - 15) / 255) + 1 : 0;
    const out = new Uint8Array(5 + ext + n);
    new DataView(out.buffer).setUint32(0, n, true);
    out[4] = Math.min(n, 15) << 4;
    let o = 5;
    for (let r = n - 15; n >= 15 && o < 5 + ext; r -= 255) out[o++] = Math.min(r, 255);
    out.set(data, o);
    return out;
  },
  decompress: (data, size) => lz4Codec.decompress(data, size),
};

test('messages the client compressed (codec 2) go into pages as they are: same file contents as DuckDB\'s, no message compressed again', async () => {
  // blocks of different sizes, one from an older client (codec 1), one empty, one stored as literals: packed pages next to ordinary ones
  const codecs = [0, 0, 0, 0, 1, 0, 2];
  const f = clientLogBlocks(7, (b) => [40, 1, 0, 300, 17, 90, 64][b]!, (b) => [lz4SectionsCodec(lz4Codec), lz4Codec, lz4SectionsCodec(literalLz4)][codecs[b]!]!);
  const packed = f.decoded.map((d) => (d as BlockColumns).packedMessages);
  assert.deepEqual(packed.map((p) => p !== undefined), [true, true, false, true, false, true, true]);
  const staged = stagingOf(logEntriesRows(f.blocks, f.decoded))!();
  assert.equal(staged.sortedBy, 'time');
  assert.ok(staged.columns.find((c) => c.name === 'msg' && c.kind === 'text' && c.packed), 'the msg column keeps the client\'s LZ4 blocks');
  await compareWriters(() => logEntriesRows(f.blocks, f.decoded));
  const dir = await mkdtemp(join(tmpdir(), 'sirius-direct-'));
  try {
    // row groups of at most 100 rows end where blocks end, so no block is split: 40+1 | 300 | 17+90 is over, 17 | 90 | 64
    const p = join(dir, 'packed.parquet');
    await writeDirectParquet(p, logEntriesColumns, staged, { rowGroup: 100 });
    const file = await readFile(p);
    const literal = packed[6]!;
    assert.ok(file.includes(Buffer.from(literal.subarray(literal.length - 2000))), 'the messages stored as literals by the client are in the file as sent');
    await withConnection(async (c) => {
      const groups = (await c.runAndReadAll(`SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata(${sqlString(p)}) ORDER BY 1`)).getRows();
      assert.deepEqual(groups.map((g) => Number(g[1])), [41, 300, 17, 90, 64]);
      const whole = join(dir, 'duck.parquet');
      await withWriter('duckdb', () => writeParquet(logEntriesRows(f.blocks, f.decoded), whole));
      const q = (x: string) => `SELECT row_number() OVER () AS rn, * FROM read_parquet(${sqlString(x)})`;
      for (const [x, y] of [[p, whole], [whole, p]]) {
        assert.equal(Number((await c.runAndReadAll(`SELECT count(*) FROM (${q(x!)} EXCEPT ALL ${q(y!)})`)).getRows()[0]![0]), 0);
      }
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the daemon\'s write of codec-2 log blocks never decompresses their messages, and reads back like DuckDB\'s from the messages', async () => {
  const stream = randomUUID();
  const enc = new BlockEncoder();
  const blocks: SourceBlock[] = [];
  const envelopes: Uint8Array[] = [];
  for (let b = 0; b < 4; b++) {
    const n = [70, 1, 200, 33][b]!;
    for (let k = 0; k < n; k++) enc.log(k * 1000, 1 + (k % 6), `t${k % 3}`, `block ${b} line ${k} ${'é'.repeat(k % 3)}`, k % 7 === 0 ? { k: String(k) } : null);
    const b0 = block(b, stream, { env: 'test' }, b);
    blocks.push(b0);
    envelopes.push(encodeBlock({ ...b0, process_id: randomUUID(), nb_objects: n }, enc.finish(), lz4SectionsCodec(lz4Codec)));
  }
  const untouchable = envelopes.map((e) => {
    const d = decodeStoredBlock(e);
    assert.ok(d.packedMessages);
    Object.defineProperty(d.tables, 'bytes', { get: () => assert.fail('the messages were decompressed') });
    return d;
  });
  const dir = await mkdtemp(join(tmpdir(), 'sirius-direct-'));
  try {
    const direct = join(dir, 'fresh.parquet');
    const viaDuck = join(dir, 'duck.parquet');
    await withWriter('direct', () => writeParquet(logEntriesRows(blocks, untouchable), direct, FRESH_PARTITION));
    await withWriter('duckdb', () => writeParquet(logEntriesRows(blocks, envelopes.map(decodeStoredBlock)), viaDuck, FRESH_PARTITION));
    await withConnection(async (c) => {
      const q = (x: string) => `SELECT row_number() OVER () AS rn, * FROM read_parquet(${sqlString(x)})`;
      assert.equal(Number((await c.runAndReadAll(`SELECT count(*) FROM read_parquet(${sqlString(direct)})`)).getRows()[0]![0]), 304);
      for (const [x, y] of [[direct, viaDuck], [viaDuck, direct]]) {
        assert.equal(Number((await c.runAndReadAll(`SELECT count(*) FROM (${q(x!)} EXCEPT ALL ${q(y!)})`)).getRows()[0]![0]), 0);
      }
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('lz4BlockSound: a block passes only if it turns into exactly its size in a strict decoder, and keeps the end rules', () => {
  const rand = rng(77);
  const text = new TextEncoder().encode('frame 1234 rendered in 16 ms; frame 1235 rendered in 17 ms; '.repeat(8));
  const valid = new Uint8Array(compressSync(Buffer.from(text)).subarray(4));
  assert.ok(lz4BlockSound(valid, text.length));
  assert.equal(lz4BlockSound(valid, text.length + 1), false, 'one byte short of the size');
  assert.equal(lz4BlockSound(valid, text.length - 1), false, 'one byte past the size');
  assert.equal(lz4BlockSound(valid.subarray(0, valid.length - 1), text.length), false, 'last literal missing');
  // a literal, then a match whose offset reaches before the output (2 bytes back from 1) or is 0
  const literalThenMatch = (offset: number) => Uint8Array.from([0x10, 0x61, offset, 0, 0x80, ...new TextEncoder().encode('bcdefghi')]);
  assert.ok(lz4BlockSound(literalThenMatch(1), 1 + 4 + 8), 'a run of five bytes, then eight literals');
  assert.equal(new TextDecoder().decode(uncompressSync(Buffer.from([13, 0, 0, 0, ...literalThenMatch(1)]))), 'aaaaabcdefghi');
  assert.equal(lz4BlockSound(literalThenMatch(2), 1 + 4 + 8), false, 'offset past the start');
  assert.equal(lz4BlockSound(literalThenMatch(0), 1 + 4 + 8), false, 'offset 0');
  // damaged blocks: whenever the walk accepts one, the strict decoder gives exactly that many bytes
  let accepted = 0;
  for (let k = 0; k < 3000; k++) {
    const bad = valid.slice(0, valid.length - (rand() < 0.2 ? Math.floor(rand() * 5) : 0));
    for (let f = 0; f < 1 + Math.floor(rand() * 2); f++) bad[Math.floor(rand() * bad.length)]! ^= 1 << Math.floor(rand() * 8);
    if (!lz4BlockSound(bad, text.length)) continue;
    accepted++;
    const prefixed = new Uint8Array(4 + bad.length);
    new DataView(prefixed.buffer).setUint32(0, text.length, true);
    prefixed.set(bad, 4);
    assert.equal(uncompressSync(Buffer.from(prefixed)).length, text.length, `case ${k}`);
  }
  assert.ok(accepted > 100, `${accepted} damaged blocks still sound (flipped literals): too few to test anything`);
});

test('fresh partitions keep block order: overlapping streams still reuse the client\'s message blocks', async () => {
  // what the daemon writes (FRESH_PARTITION: no ORDER BY): two streams whose blocks overlap in time, one block
  // stored as literals so its bytes can be recognized in the file
  const a = clientLogBlocks(3, () => 80);
  const b = clientLogBlocks(3, () => 80, (i) => lz4SectionsCodec(i === 1 ? literalLz4 : lz4Codec));
  const blocks = [a.blocks[0]!, b.blocks[0]!, a.blocks[1]!, b.blocks[1]!, a.blocks[2]!, b.blocks[2]!];
  const decoded = [a.decoded[0]!, b.decoded[0]!, a.decoded[1]!, b.decoded[1]!, a.decoded[2]!, b.decoded[2]!];
  assert.equal(stagingOf(logEntriesRows(blocks, decoded))!().sortedBy, null, 'the streams overlap');
  await compareWriters(() => logEntriesRows(blocks, decoded), FRESH_PARTITION.orderBy);
  const dir = await mkdtemp(join(tmpdir(), 'sirius-direct-'));
  try {
    const p = join(dir, 'fresh.parquet');
    await writeParquet(logEntriesRows(blocks, decoded), p, FRESH_PARTITION);
    const literal = (b.decoded[1] as BlockColumns).packedMessages!;
    assert.ok((await readFile(p)).includes(Buffer.from(literal.subarray(literal.length - 1500))), 'the literal block is in the file as sent');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('packed messages are not used when the rows are reordered or another block\'s message is invalid UTF-8', async () => {
  // two streams whose blocks overlap in time: the writer sorts, so pages cannot follow blocks
  const a = clientLogBlocks(3, () => 50);
  const b = clientLogBlocks(3, () => 50);
  const blocks = [...a.blocks, ...b.blocks];
  const decoded = [...a.decoded, ...b.decoded];
  await compareWriters(() => logEntriesRows(blocks, decoded), 'time', true);
  // a message that is not UTF-8 (in a block stored by hand with codec 1: ingestion refuses such blocks): every
  // message is re-encoded, so the client's bytes are not the staged ones
  const c = clientLogBlocks(3, () => 30, (i) => (i === 1 ? lz4Codec : lz4SectionsCodec(lz4Codec)));
  assert.deepEqual(c.decoded.map((d) => (d as BlockColumns).packedMessages !== undefined), [true, false, true]);
  c.decoded[1]!.tables.bytes[c.decoded[1]!.logs.msgStart[1]!] = 0xff;
  const staged = stagingOf(logEntriesRows(c.blocks, c.decoded))!();
  assert.equal(staged.columns.some((col) => col.kind === 'text' && col.packed), false);
  assert.equal(staged.cuts, undefined);
  await compareWriters(() => logEntriesRows(c.blocks, c.decoded));
});

test('writer choice: env var forces DuckDB, other ORDER BYs fall back, and DuckDB can merge both kinds of file', async () => {
  const f = fixture(2, 30);
  const dir = await mkdtemp(join(tmpdir(), 'sirius-direct-'));
  try {
    const direct = join(dir, 'direct.parquet');
    const duck = join(dir, 'duck.parquet');
    const byLevel = join(dir, 'by-level.parquet');
    await writeParquet(logEntriesRows(f.blocks, f.decoded), direct, { orderBy: 'time' });
    await withWriter('duckdb', () => writeParquet(logEntriesRows(f.blocks, f.decoded), duck, { orderBy: 'time' }));
    await writeParquet(logEntriesRows(f.blocks, f.decoded), byLevel, { orderBy: 'level, time' });
    await withConnection(async (c) => {
      const createdBy = async (p: string) => String((await c.runAndReadAll(`SELECT created_by FROM parquet_file_metadata(${sqlString(p)})`)).getRows()[0]![0]);
      assert.match(await createdBy(direct), /sirius direct/);
      assert.match(await createdBy(duck), /DuckDB/);
      assert.match(await createdBy(byLevel), /DuckDB/);
      // what compaction does: read both files as one and rewrite them with DuckDB
      const merged = join(dir, 'merged.parquet');
      await c.run(`COPY (SELECT * FROM read_parquet([${sqlString(direct)}, ${sqlString(duck)}]) ORDER BY time) TO ${sqlString(merged)} (FORMAT parquet, COMPRESSION zstd)`);
      const q = (sql: string) => c.runAndReadAll(sql).then((r) => Number(r.getRows()[0]![0]));
      const n = await q(`SELECT count(*) FROM read_parquet(${sqlString(direct)})`);
      assert.ok(n > 0);
      assert.equal(await q(`SELECT count(*) FROM read_parquet(${sqlString(merged)})`), 2 * n);
      assert.equal(await q(`SELECT count(*) FROM (SELECT * FROM read_parquet(${sqlString(merged)}) EXCEPT ALL (SELECT * FROM read_parquet(${sqlString(direct)}) UNION ALL SELECT * FROM read_parquet(${sqlString(duck)})))`), 0);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('timeOrder: stable merge of runs, null when already ascending', () => {
  const pairs = (v: bigint[]) => new Int32Array(BigInt64Array.from(v).buffer);
  assert.equal(timeOrder(pairs([1n, 2n, 2n, 3n])), null);
  assert.deepEqual([...timeOrder(pairs([5n, 7n, 1n, 5n, -(2n ** 40n), 2n ** 40n, 5n]))!], [4, 2, 0, 3, 6, 1, 5]);
  // low words past 2^31 compare unsigned
  assert.deepEqual([...timeOrder(pairs([2n ** 31n + 1n, 2n ** 31n, 0n]))!], [2, 1, 0]);
  // a span too wide for exact doubles: compared as (lo, hi) pairs
  assert.deepEqual([...timeOrder(pairs([2n ** 62n, -(2n ** 62n), 2n ** 62n - 1n, 2n ** 62n - 1n]))!], [1, 2, 3, 0]);
  // exact doubles near the top of the span: neighbours one nanosecond apart stay ordered
  const base = 1_763_890_000_000_000_000n;
  assert.deepEqual([...timeOrder(pairs([base + 2n ** 51n + 1n, base + 2n ** 51n, base]))!], [2, 1, 0]);
});

/** Decodes an RLE/bit-packed hybrid stream by hand (the Parquet spec's reading, independent of the encoder). */
function decodeHybrid(b: Uint8Array, width: number): number[] {
  const got: number[] = [];
  const mask = (1 << width) - 1;
  let p = 0;
  while (p < b.length) {
    let h = 0;
    let s = 0;
    for (;;) {
      const x = b[p++]!;
      h |= (x & 0x7f) << s;
      s += 7;
      if (x < 0x80) break;
    }
    if (h & 1) {
      const n = (h >> 1) * 8;
      let acc = 0;
      let bits = 0;
      for (let k = 0; k < n; k++) {
        while (bits < width) {
          acc |= b[p++]! << bits;
          bits += 8;
        }
        got.push(acc & mask);
        acc >>= width;
        bits -= width;
      }
    } else {
      let v = 0;
      for (let k = 0; k < Math.ceil(width / 8); k++) v |= b[p++]! << (8 * k);
      for (let k = 0; k < h >> 1; k++) got.push(v);
    }
  }
  return got;
}

test('hybrid encoder: RLE runs after unaligned literals stay decodable', async () => {
  // literals, then a run that must lend values to pad the bit-packed stretch, then literals again
  const values = [1, 2, 3, ...Array(20).fill(5), 0, 1, 0, 6, 6, 6, 6, 6, 6, 6, 6, 6, 7];
  const out = new ByteSink();
  hybrid(out, Uint32Array.from(values), 0, values.length, 3);
  const got = decodeHybrid(out.bytes(), 3);
  assert.deepEqual(got.slice(0, values.length), values);
  assert.ok(got.length - values.length < 8);
});

test('hybrid encoder: every width up to 16 bits, with runs and literals of any length, decodes to its input', () => {
  const rand = rng(29);
  for (let n = 0; n < 400; n++) {
    const width = 1 + (n % 16);
    const values: number[] = [];
    const count = Math.floor(rand() * 200);
    while (values.length < count) {
      const v = Math.floor(rand() * 2 ** width);
      const len = rand() < 0.8 ? 1 : Math.floor(rand() * 30);
      for (let j = 0; j < len; j++) values.push(v);
    }
    const out = new ByteSink();
    // an offset start, as pages of later row groups have
    const at = Uint32Array.from([7, ...values]);
    hybrid(out, at, 1, at.length, width);
    const got = decodeHybrid(out.bytes(), width);
    assert.deepEqual(got.slice(0, values.length), values, `case ${n}, width ${width}`);
    assert.ok(got.length - values.length < 8, `case ${n}: at most one group of padding`);
  }
});

test('level runs encode the same levels as the per-value hybrid, whatever the run lengths', () => {
  const rand = rng(17);
  for (let n = 0; n < 500; n++) {
    const width = 1 + Math.floor(rand() * 2);
    const runs = new LevelRuns(width);
    const levels: number[] = [];
    const count = Math.floor(rand() * 40);
    for (let k = 0; k < count; k++) {
      // short and long runs, repeated values split over several calls, empty runs
      const v = Math.floor(rand() * (1 << width));
      const len = rand() < 0.7 ? Math.floor(rand() * 3) : Math.floor(rand() * 40);
      runs.add(v, len);
      for (let j = 0; j < len; j++) levels.push(v);
    }
    const block = runs.block();
    assert.equal(new DataView(block.buffer, block.byteOffset).getUint32(0, true), block.length - 4, 'length prefix');
    const got = decodeHybrid(block.subarray(4), width);
    assert.deepEqual(got.slice(0, levels.length), levels, `case ${n}`);
    assert.ok(got.length - levels.length < 8 && got.slice(levels.length).every((v) => v === 0), `case ${n}: only zero padding at the end`);
  }
});
