import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLakehouse, listPartitions, startDaemon, type Lakehouse } from '../../src/lakehouse/index.js';
import { pgBackends } from '../support/pg.js';
import {
  logBlock, makeProcess, makeStream, metricBlock, post, readParquetRows, startTestLake, T0, until,
  type ExpectedLog, type ExpectedMeasure, type TestLake,
} from './lake-fixtures.js';

const ALL = { begin: T0 - 1_000_000_000_000n, end: T0 + 1_000_000_000_000n };

function paths(t: TestLake, keys: string[]): string[] {
  return keys.map((k) => t.server.lake.objects.localPath(k)!);
}

async function visibleRows(t: TestLake, lh: Lakehouse, view: string, columns: string, order: string) {
  const src = await lh.resolve(view, 'global', ALL);
  try {
    return {
      committed: await readParquetRows(paths(t, src.objectKeys), columns, order),
      tail: await readParquetRows(src.localFiles, columns, order),
    };
  } finally {
    await src.release();
  }
}

const LOG_COLS = `process_id, stream_id, block_id, epoch_ns(insert_time)::VARCHAR AS insert_time, exe, username, computer,
  epoch_ns(time)::VARCHAR AS time, target, level, msg, to_json(properties)::VARCHAR AS properties, to_json(process_properties)::VARCHAR AS process_properties`;
const MEASURE_COLS = `process_id, stream_id, block_id, epoch_ns(insert_time)::VARCHAR AS insert_time, exe, username, computer,
  epoch_ns(time)::VARCHAR AS time, target, name, unit, value, to_json(properties)::VARCHAR AS properties, to_json(process_properties)::VARCHAR AS process_properties`;

function checkLogs(rows: Record<string, unknown>[], expected: ExpectedLog[], insertTimes: Map<string, string>) {
  assert.equal(rows.length, expected.length);
  const sorted = [...expected].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.msg < b.msg ? -1 : 1));
  sorted.forEach((e, i) => {
    const r = rows[i]!;
    assert.deepEqual(
      { ...r, properties: JSON.parse(r.properties as string), process_properties: JSON.parse(r.process_properties as string) },
      {
        process_id: e.process_id, stream_id: e.stream_id, block_id: e.block_id, insert_time: insertTimes.get(e.block_id),
        exe: '/usr/bin/game', username: 'alice', computer: 'box', time: String(e.time), target: e.target, level: e.level,
        msg: e.msg, properties: e.properties, process_properties: { env: 'test' },
      },
    );
  });
}

function checkMeasures(rows: Record<string, unknown>[], expected: ExpectedMeasure[], insertTimes: Map<string, string>) {
  assert.equal(rows.length, expected.length);
  const sorted = [...expected].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  sorted.forEach((e, i) => {
    const r = rows[i]!;
    assert.deepEqual(
      { ...r, properties: JSON.parse(r.properties as string), process_properties: JSON.parse(r.process_properties as string) },
      {
        process_id: e.process_id, stream_id: e.stream_id, block_id: e.block_id, insert_time: insertTimes.get(e.block_id),
        exe: '/usr/bin/game', username: 'alice', computer: 'box', time: String(e.time), target: e.target, name: e.name,
        unit: e.unit, value: e.value, properties: e.properties, process_properties: { env: 'test' },
      },
    );
  });
}

for (const backend of pgBackends) {
  describe(`lakehouse daemon (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestLake;
    let lh: Lakehouse;
    const logs: ExpectedLog[] = [];
    const measures: ExpectedMeasure[] = [];
    let insertTimes: Map<string, string>;

    before(async () => {
      t = await startTestLake(backend);
      lh = createLakehouse({ lake: t.server.lake, dataDir: t.dir });
      const proc = makeProcess();
      const ls = makeStream(proc.process_id, ['log']);
      const ms = makeStream(proc.process_id, ['metrics']);
      await post(t.server, 'insert_process', proc);
      await post(t.server, 'insert_stream', ls);
      await post(t.server, 'insert_stream', ms);
      for (let i = 0; i < 6; i++) {
        const l = logBlock(ls, i, 50 + i);
        await post(t.server, 'insert_block', l.body);
        logs.push(...l.rows);
        const m = metricBlock(ms, i, 30 + i);
        await post(t.server, 'insert_block', m.body);
        measures.push(...m.rows);
      }
      const rows = await t.server.lake.sql.query<{ block_id: string; insert_time: string }>('SELECT block_id, insert_time FROM blocks');
      insertTimes = new Map(rows.map((r) => [r.block_id, String(r.insert_time)]));
    });
    after(async () => t?.close());

    test('before the daemon runs, resolve serves every row from the unmaterialized tail', async () => {
      const l = await visibleRows(t, lh, 'log_entries', LOG_COLS, 'time, msg');
      assert.equal(l.committed.length, 0);
      checkLogs(l.tail, logs, insertTimes);
      const m = await visibleRows(t, lh, 'measures', MEASURE_COLS, 'time');
      checkMeasures(m.tail, measures, insertTimes);
      const stats = await visibleRows(t, lh, 'log_stats', 'sum(count)::BIGINT AS n', '1');
      assert.equal(stats.committed.length, 0);
    });

    test('the daemon turns the blocks into partitions holding exactly the rows sent', async () => {
      const daemon = startDaemon({ lake: t.server.lake, dataDir: t.dir, intervalMs: 20, lagMs: 0, quiet: true });
      try {
        await until('all rows materialized', async () => {
          const ps = await listPartitions(t.server.lake.sql, { instance: 'global' });
          const n = (v: string) => ps.filter((p) => p.view_set === v).reduce((a, p) => a + p.num_rows, 0);
          return n('log_entries') === logs.length && n('measures') === measures.length && ps.some((p) => p.view_set === 'log_stats');
        });
      } finally {
        await daemon.stop();
      }
      const l = await visibleRows(t, lh, 'log_entries', LOG_COLS, 'time, msg');
      assert.equal(l.tail.length, 0);
      checkLogs(l.committed, logs, insertTimes);
      const m = await visibleRows(t, lh, 'measures', MEASURE_COLS, 'time');
      assert.equal(m.tail.length, 0);
      checkMeasures(m.committed, measures, insertTimes);
    });

    test('log_stats counts logs per minute, process, level and target', async () => {
      const src = await lh.resolve('log_stats', 'global', ALL);
      assert.equal(src.localFiles.length, 0);
      const grouped = await readParquetRows(paths(t, src.objectKeys),
        `epoch_ns(time_bin)::VARCHAR AS time_bin, process_id, level, target, sum(count)::INTEGER AS count`, 'level, target', 'GROUP BY ALL');
      await src.release();
      const expected = new Map<string, number>();
      for (const e of logs) expected.set(`${e.level}/${e.target}`, (expected.get(`${e.level}/${e.target}`) ?? 0) + 1);
      assert.equal(grouped.length, expected.size);
      const bin = String(T0 - (T0 % 60_000_000_000n));
      for (const r of grouped) {
        assert.equal(r.time_bin, bin);
        assert.equal(r.process_id, logs[0]!.process_id);
        assert.equal(r.count, expected.get(`${r.level}/${r.target}`));
      }
    });
  });
}
