/**
 * One range, one log count: the SQL the Logs tab (`logCountSql`), the Processes page (`processesSql`) and
 * the Overview (`totalsSql`) send, run by the real engine over logs ingested through the real pipeline,
 * must each equal `count(*)` over `log_entries` for ranges that start and end mid-minute (where `log_stats`
 * alone, binned by minute, drops the first partial minute and over-counts the last).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BlockEncoder, encodeBlock, type BlockMeta, type StreamInfo } from '@sirius/transit';
import { pgBackends } from '../../server/test/support/pg.js';
import { T0, makeProcess, makeStream, post, startTestLake, type TestLake } from '../../server/test/lakehouse/lake-fixtures.js';
import { lz4Codec } from '../../server/src/lake/lz4-codec.js';
import { createLakehouse } from '../../server/src/lakehouse/index.js';
import { createQueryEngine, type QueryEngine } from '../../server/src/analytics/query-engine.js';
import { tableToJsonRows } from '../../server/src/endpoints/result-json.js';
import { logCountSql, logTotalSql, logTotalsSql, type LogFilter, type MsRange } from '../src/lib/log-query.js';
import { processesSql } from '../src/lib/processes-query.js';

const MINUTE_NS = 60_000_000_000n;
/** a whole minute: the data starts on a bin boundary and runs about five minutes */
const B = (T0 / MINUTE_NS) * MINUTE_NS;
const Bms = Number(B / 1_000_000n);

/** events every `stepS` seconds for `minutes` minutes from `offsetS` after B; the time in ticks is ns × 2 (TSC 2 GHz) */
function spreadLogs(stream: StreamInfo, offsetS: number, stepS: number, minutes: number): { body: Uint8Array; meta: BlockMeta } {
  const enc = new BlockEncoder();
  const span = minutes * 60;
  let n = 0;
  for (let s = 0; s < span; s += stepS, n++) enc.log(s * 2e9, 1 + (n % 6), `t${n % 3}`, `line ${n}`, null);
  const begin = B + BigInt(offsetS) * 1_000_000_000n;
  const meta: BlockMeta = {
    block_id: crypto.randomUUID(), stream_id: stream.stream_id, process_id: stream.process_id,
    begin_time: begin, begin_ticks: 0n, end_time: begin + BigInt(span) * 1_000_000_000n, end_ticks: BigInt(span) * 2_000_000_000n,
    nb_objects: n,
  };
  return { body: encodeBlock(meta, enc.finish(), lz4Codec), meta };
}

const backend = pgBackends[0]!; // PGlite: the counting is the engine's, the metadata store plays no part
let t: TestLake;
let engine: QueryEngine;
const p1 = makeProcess();
const p2 = makeProcess();

before(async () => {
  t = await startTestLake(backend);
  const lakehouse = createLakehouse({ lake: t.server.lake, dataDir: t.dir });
  engine = await createQueryEngine({ lake: t.server.lake, lakehouse, cacheDir: join(t.dir, 'cache') });
  for (const [p, offset, step] of [[p1, 0, 7], [p2, 13, 5]] as const) {
    await post(t.server, 'insert_process', p);
    const s = makeStream(p.process_id, ['log']);
    await post(t.server, 'insert_stream', s);
    await post(t.server, 'insert_block', spreadLogs(s, offset, step, 5).body);
  }
});
after(async () => {
  await engine?.close();
  await t?.close();
});

async function rows(sql: string, range: MsRange): Promise<Record<string, unknown>[]> {
  const out = await engine.query(sql, { begin: BigInt(range.begin) * 1_000_000n, end: BigInt(range.end) * 1_000_000n });
  return JSON.parse(tableToJsonRows(out.table)) as Record<string, unknown>[];
}

const ALL: LogFilter = { maxLevel: 6, search: '', target: '' };
const RANGES: Array<[string, MsRange]> = [
  ['starts and ends mid-minute', { begin: Bms + 90_500, end: Bms + 250_300 }],
  ['inside one minute', { begin: Bms + 61_000, end: Bms + 119_000 }],
  ['across one minute boundary, no whole minute', { begin: Bms + 100_000, end: Bms + 130_000 }],
  ['whole minutes', { begin: Bms + 60_000, end: Bms + 240_000 }],
];

for (const [name, range] of RANGES) {
  test(`log counts agree with count(*) of log_entries: range ${name}`, async () => {
    const truth = Number((await rows('SELECT count(*) AS n FROM log_entries', range))[0]!.n);
    assert.ok(truth > 0, 'the range holds log lines');
    // the Logs tab counts the rows it pages through
    assert.equal(Number((await rows(logCountSql({ ...ALL, processId: p1.process_id }), range))[0]!.n),
      Number((await rows(`SELECT count(*) AS n FROM log_entries WHERE process_id = '${p1.process_id}'`, range))[0]!.n), 'Logs tab');
    // the shared counting, unfiltered and filtered the ways log_stats can answer, and by a message search
    assert.equal(Number((await rows(logTotalSql(ALL, range), range))[0]!.n), truth, 'all levels');
    for (const f of [{ ...ALL, processId: p2.process_id }, { ...ALL, maxLevel: 3 }, { ...ALL, target: 't1', processId: p1.process_id }, { ...ALL, search: 'line 1' }]) {
      const where = [
        f.processId ? `process_id = '${f.processId}'` : '', f.maxLevel < 6 ? `level <= ${f.maxLevel}` : '',
        f.target ? `target ILIKE '%${f.target}%'` : '', f.search ? `msg ILIKE '%${f.search}%'` : '',
      ].filter(Boolean).join(' AND ');
      const expected = Number((await rows(`SELECT count(*) AS n FROM log_entries WHERE ${where}`, range))[0]!.n);
      assert.equal(Number((await rows(logTotalSql(f, range), range))[0]!.n), expected, JSON.stringify(f));
    }
    // the Processes page, per process and per level band
    const perProcess = await rows(
      `SELECT process_id, count(*) AS logs, count(*) FILTER (WHERE level <= 2) AS errors, count(*) FILTER (WHERE level = 3) AS warnings
       FROM log_entries GROUP BY process_id`, range);
    const shown = new Map((await rows(processesSql(range), range)).map((r) => [r.process_id, r]));
    for (const r of perProcess) {
      const s = shown.get(r.process_id);
      assert.deepEqual([s?.logs, s?.errors, s?.warnings].map(Number), [r.logs, r.errors, r.warnings].map(Number), `Processes page, ${String(r.process_id)}`);
    }
    // the Overview's totals
    assert.equal(Number((await rows(logTotalsSql(range), range))[0]!.total), truth, 'Overview');
  });
}

test('log_stats alone miscounts a range that starts and ends mid-minute (why the edges come from log_entries)', async () => {
  const [, range] = RANGES[0]!;
  const truth = Number((await rows('SELECT count(*) AS n FROM log_entries', range))[0]!.n);
  const binned = Number((await rows('SELECT sum(count) AS n FROM log_stats', range))[0]!.n);
  assert.notEqual(binned, truth);
});
