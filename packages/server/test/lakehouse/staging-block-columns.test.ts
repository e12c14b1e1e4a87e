/**
 * The staged path (typed arrays → staging Parquet → COPY) must write the same partition as the appender path
 * (row values → staging table → COPY): same column names and types, same rows, in time order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockEncoder, decodeColumns, type TransitColumns } from '@sirius/transit';
import { logEntriesRows, logEntriesValues, measuresRows, measuresValues } from '../../src/lakehouse/block-rows.js';
import { withConnection, sqlString } from '../../src/lakehouse/duckdb-engine.js';
import { writeParquet } from '../../src/lakehouse/parquet-writer.js';
import { stagingOf } from '../../src/lakehouse/staging-batch.js';
import type { RowBatch } from '../../src/lakehouse/row-batch.js';
import type { SourceBlock } from '../../src/lakehouse/source-blocks.js';

const T0 = 1_763_890_000_000_000_000n;

function block(i: number, stream: string, props: Record<string, string>, over: Partial<SourceBlock> = {}): SourceBlock {
  // begin times whose low 32 bits sit just under 2^32, so adding an offset carries into the high word
  const begin = (T0 / 2n ** 32n + BigInt(i)) * 2n ** 32n + 2n ** 32n - 1000n;
  return {
    block_id: randomUUID(), stream_id: stream, process_id: `p-${stream.slice(0, 4)}`, begin_time: begin, begin_ticks: 0n,
    end_time: begin + 10n ** 9n, end_ticks: 0n, nb_objects: 0, insert_time: T0 + BigInt(i % 2), exe: 'gäme.exe', username: i % 2 ? 'ann' : "o'brien",
    computer: 'box', tsc_frequency: 3_000_000_007, start_time: T0, start_ticks: 0n, process_properties: props, ...over,
  };
}

/** Two streams whose blocks interleave in time (so the writer must sort), with awkward properties and values. */
function fixture(): { blocks: SourceBlock[]; decoded: (TransitColumns | null)[] } {
  const streams = [randomUUID(), randomUUID()];
  const enc = streams.map(() => new BlockEncoder());
  const blocks: SourceBlock[] = [];
  const decoded: (TransitColumns | null)[] = [];
  const awkward = [null, { b: '1', a: '2', '10': 'x', '2': 'y' }, { __proto__: 'p', k: 'v' }, { 'quo"te': 'back\\slash\n', émoji: '🎉' }, {}];
  for (let i = 0; i < 6; i++) {
    const s = i % 2;
    const e = enc[s]!;
    for (let k = 0; k < 40; k++) {
      const ticks = Math.floor((k * 1e9) / 7) + s * 13; // odd clock rate below: rounding matters
      const props = awkward[(k + i) % awkward.length] as Record<string, string> | null;
      e.log(ticks, k % 7, `t${k % 3}${s ? 'é' : ''}`, k % 5 === 0 ? '' : `msg ${i}/${k} — ü`, props);
      e.intMetric(ticks, `n${k % 4}`, k % 2 ? 'count' : 'bytes', 'tgt', [0n, -1n, 2n ** 53n + 1n, -(2n ** 62n) - 3n, 2n ** 63n - 1n][k % 5]!, props);
      e.floatMetric(ticks + 1, 'f', 'ms', `tgt${k % 2}`, [0.1, -0, 1e300, Number.MIN_VALUE, 12345.678][k % 5]!, props);
    }
    blocks.push(block(i, streams[s]!, i === 4 ? {} : { env: 'test', ['1']: String(i % 3) }));
    decoded.push(decodeColumns(e.finish()));
  }
  // a missing payload, and a block whose messages were corrupted into invalid UTF-8
  blocks.push(block(9, streams[0]!, {}));
  decoded.push(null);
  decoded[3]!.tables.bytes[decoded[3]!.logs.msgStart[1]!] = 0xff;
  return { blocks, decoded };
}

async function compare(staged: RowBatch, plain: RowBatch): Promise<void> {
  assert.ok(stagingOf(staged), 'block rows stage themselves');
  assert.equal(stagingOf(plain), undefined);
  const dir = await mkdtemp(join(tmpdir(), 'sirius-staged-'));
  try {
    const a = join(dir, 'a.parquet');
    const b = join(dir, 'b.parquet');
    await writeParquet(staged, a, { orderBy: 'time' });
    await writeParquet(plain, b, { orderBy: 'time' });
    await withConnection(async (c) => {
      const schema = async (p: string) => (await c.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sqlString(p)})`)).getRows().map((r) => `${r[0]} ${r[1]}`);
      assert.deepEqual(await schema(a), await schema(b));
      assert.deepEqual(await schema(a), plain.columns.map((col) => `${col.name} ${col.type.replaceAll(' ', '')}`).map((s) => s.replace('MAP(VARCHAR,VARCHAR)', 'MAP(VARCHAR, VARCHAR)')));
      const count = async (sql: string) => Number((await c.runAndReadAll(sql)).getRows()[0]![0]);
      assert.equal(await count(`SELECT count(*) FROM read_parquet(${sqlString(a)})`), plain.length);
      for (const [x, y] of [[a, b], [b, a]]) {
        const diff = await count(`SELECT count(*) FROM (SELECT * FROM read_parquet(${sqlString(x!)}) EXCEPT ALL SELECT * FROM read_parquet(${sqlString(y!)}))`);
        assert.equal(diff, 0, `rows of ${x} missing from ${y}`);
      }
      const unordered = await count(`SELECT count(*) FROM (SELECT time < lag(time) OVER () AS back FROM read_parquet(${sqlString(a)})) WHERE back`);
      assert.equal(unordered, 0, 'rows are in time order');
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('log_entries: staged partition equals the appender partition, column by column', async () => {
  const { blocks, decoded } = fixture();
  const staged = logEntriesRows(blocks, decoded);
  const plain = logEntriesValues(blocks, decoded);
  assert.equal(staged.length, plain.length);
  await compare(staged, plain);
  // the lazy rows are the same rows, for readers such as JIT segment filtering
  assert.deepEqual(staged.values, plain.values);
});

test('measures: staged partition equals the appender partition, column by column', async () => {
  const { blocks, decoded } = fixture();
  await compare(measuresRows(blocks, decoded), measuresValues(blocks, decoded));
});

test('one stream in order: the sort is skipped and the output is still in time order', async () => {
  const stream = randomUUID();
  const blocks: SourceBlock[] = [];
  const decoded: TransitColumns[] = [];
  const enc = new BlockEncoder();
  for (let i = 0; i < 3; i++) {
    for (let k = 0; k < 100; k++) enc.log(k * 1000, 3, 'x', `m${k}`, null);
    blocks.push(block(i, stream, { a: 'b' }));
    decoded.push(decodeColumns(enc.finish()));
  }
  const staged = logEntriesRows(blocks, decoded);
  assert.equal(stagingOf(staged)!().sortedBy, 'time');
  await compare(staged, logEntriesValues(blocks, decoded));
});

test('a nanosecond clock: staged times equal the formula on both sides of the 2^50-tick shortcut', async () => {
  const stream = randomUUID();
  const enc = new BlockEncoder();
  // ticks where (t·1e9)/1e9 is t, and past 2^50, where the staging takes the formula again (near 2^53 it is not t)
  const ticks = [0, 1, 999_999_999, 2 ** 50 - 1, 2 ** 50, 2 ** 50 + 1, 2 ** 52 + 3, 9_007_199_254_740_956, 9_007_199_254_740_985, 2 ** 53 - 1];
  for (const t of ticks) {
    enc.log(t, 3, 'x', `at ${t}`, null);
    enc.floatMetric(t, 'm', 'ms', 'x', t / 7);
  }
  const blocks = [block(0, stream, {}, { tsc_frequency: 1e9, begin_time: 1_000_000_000n })];
  const decoded = [decodeColumns(enc.finish())];
  // a begin time whose low word is 10 below 2^32: from tick 10 on, adding carries into the high word
  for (const t of [0, 9, 10, 11, 3, 2 ** 32, 5]) enc.log(t, 3, 'x', `near ${t}`, null);
  blocks.push(block(1, stream, {}, { tsc_frequency: 1e9, begin_time: 5n * 2n ** 32n + 2n ** 32n - 10n }));
  decoded.push(decodeColumns(enc.finish()));
  await compare(logEntriesRows(blocks, decoded), logEntriesValues(blocks, decoded));
  await compare(measuresRows(blocks, decoded), measuresValues(blocks, decoded));
  assert.ok(ticks.some((t) => Math.round((t * 1e9) / 1e9) !== t), 'the fixture reaches ticks where the shortcut would be wrong');
});

test('an empty batch writes an empty partition with the view schema', async () => {
  await compare(logEntriesRows([], []), logEntriesValues([], []));
  await compare(measuresRows([block(0, randomUUID(), {})], [null]), measuresValues([block(0, randomUUID(), {})], [null]));
});

test('invalid UTF-8 that only looks valid when messages are laid end to end is still replaced, message by message', async () => {
  const enc = new BlockEncoder();
  enc.log(1000, 3, 'x', 'ab', null);
  enc.log(2000, 3, 'x', 'cd', null);
  enc.log(3000, 3, 'x', 'ok', null);
  const d = decodeColumns(enc.finish());
  // "a\xC3" then "\xA9d": each is invalid alone, but the two byte ranges side by side spell "aéd"
  d.tables.bytes[d.logs.msgStart[0]! + 1] = 0xc3;
  d.tables.bytes[d.logs.msgStart[1]!] = 0xa9;
  const blocks = [block(0, randomUUID(), {})];
  const plain = logEntriesValues(blocks, [d]);
  const msg = plain.columns.findIndex((c) => c.name === 'msg');
  assert.deepEqual(plain.values[msg], ['a\uFFFD', '\uFFFDd', 'ok']);
  await compare(logEntriesRows(blocks, [d]), plain);
});
