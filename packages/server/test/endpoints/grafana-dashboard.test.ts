/**
 * The provisioned Grafana dashboard (examples/grafana) against the real PostgreSQL gateway: every panel's
 * SQL and the template variable's query are expanded the way Grafana's PostgreSQL data source does
 * (test/support/grafana-macros.ts), sent with the `pg` driver with no range set on the session, and must
 * return rows over data from 2024 — the range comes from the panels' own `$__timeFilter`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { DuckDBInstance } from '@duckdb/node-api';
import { startEngine, type EngineFixture } from '../analytics/engine-fixture.js';
import { startPgGateway, type PgGateway } from '../../src/endpoints/pg-wire/index.js';
import { insertPartition } from '../../src/lakehouse/partition-repository.js';
import { partitionKey, putPartitionObject } from '../../src/lakehouse/partition-files.js';
import { logEntriesColumns, measuresColumns, columnsDdl } from '../../src/lakehouse/view-columns.js';
import type { ColumnSpec } from '../../src/lakehouse/row-batch.js';
import { expandGrafanaSql, formatInterval, rfc3339Nano } from '../support/grafana-macros.js';

const GRAFANA = new URL('../../../../examples/grafana/', import.meta.url).pathname;
const HOUR_START = 1_714_557_600_000_000_000n; // 2024-05-01T10:00:00Z
const HOUR = 3_600_000_000_000n;

interface Target {
  rawSql: string;
  format: 'time_series' | 'table';
  datasource: { uid: string };
}
interface Panel {
  title: string;
  type: string;
  targets: Target[];
}
interface Dashboard {
  panels: Panel[];
  templating: { list: { name: string; query: string; datasource: { uid: string } }[] };
}

test('the macro expander follows Grafana’s documented expansions', () => {
  const ctx = { from: new Date('2017-07-18T11:15:52Z'), to: new Date('2017-07-18T11:20:52.5Z'), intervalMs: 300_000 };
  assert.equal(expandGrafanaSql('$__timeFilter(time)', ctx), `time BETWEEN '2017-07-18T11:15:52Z' AND '2017-07-18T11:20:52.5Z'`);
  assert.equal(expandGrafanaSql(`$__timeGroup(dateColumn,'5m')`, ctx), 'floor(extract(epoch from dateColumn)/300)*300');
  assert.equal(expandGrafanaSql(`SELECT $__timeGroup(t, $__interval), 1`, ctx), 'SELECT floor(extract(epoch from t)/300)*300 AS "time", 1');
  assert.equal(expandGrafanaSql('$__unixEpochFilter(c)', ctx), 'c >= 1500376552 AND c <= 1500376852');
  assert.equal(expandGrafanaSql('$__timeFrom() $__unixEpochTo() $__interval_ms', ctx), `'2017-07-18T11:15:52Z' 1500376852 300000`);
  assert.equal(expandGrafanaSql(`name = '$metric' AND x = '\${metric}'`, { ...ctx, variables: { metric: 'frame_time' } }), `name = 'frame_time' AND x = 'frame_time'`);
  assert.equal(rfc3339Nano(new Date('2024-05-01T00:00:00.120Z')), '2024-05-01T00:00:00.12Z');
  assert.deepEqual([formatInterval(60_000), formatInterval(7_200_000), formatInterval(15_000), formatInterval(500)], ['1m', '2h', '15s', '500ms']);
  assert.throws(() => expandGrafanaSql('$__timeGroup(time)', ctx), /missing argument/);
});

describe('Grafana dashboard over the PostgreSQL gateway', () => {
  let f: EngineFixture;
  let gw: PgGateway;
  let client: pg.Client;
  let dashboard: Dashboard;

  /** one hour of rows written as a partition of `view` */
  async function seed(view: string, columns: readonly ColumnSpec[], select: string) {
    const duck = await DuckDBInstance.create(':memory:');
    const c = await duck.connect();
    const path = join(f.dir, `${view}.parquet`);
    await c.run(`CREATE TABLE t (${columnsDdl(columns)})`);
    await c.run(`INSERT INTO t BY NAME ${select}`);
    await c.run(`COPY t TO '${path}' (FORMAT parquet)`);
    c.closeSync();
    duck.closeSync();
    const key = partitionKey(view, 'global', HOUR_START, HOUR_START + HOUR);
    const body = await readFile(path);
    await putPartitionObject(f.lake, key, body);
    await insertPartition(f.lake.sql, {
      view_set: view, view_instance: 'global', begin_insert_time: HOUR_START, end_insert_time: HOUR_START + HOUR,
      min_event_time: HOUR_START, max_event_time: HOUR_START + HOUR - 1n, file_path: key, file_size: body.byteLength,
      num_rows: 3600, file_schema_hash: 'test', source_data_hash: view, created_time: HOUR_START + HOUR,
    });
  }

  before(async () => {
    const files = (await readdir(join(GRAFANA, 'dashboards'))).filter((n) => n.endsWith('.json'));
    assert.deepEqual(files, ['sirius-overview.json']);
    dashboard = JSON.parse(await readFile(join(GRAFANA, 'dashboards', files[0]!), 'utf8')) as Dashboard;
    f = await startEngine({ objectStore: 'memory', limits: { timeoutMs: 30_000 } });
    const common = `'p1' AS process_id, 's1' AS stream_id, 'b1' AS block_id, make_timestamp_ns(${HOUR_START}::BIGINT) AS insert_time,
      'game' AS exe, 'u' AS username, 'host' AS computer, make_timestamp_ns(${HOUR_START}::BIGINT + i * 1000000000::BIGINT + 7) AS time`;
    // a log a second, levels 1…6 in turn: 1200 fatal or error entries
    await seed('log_entries', logEntriesColumns, `SELECT ${common}, 'game/loop' AS target, (i % 6 + 1)::INTEGER AS level, 'm' || i AS msg FROM range(3600) r(i)`);
    // frame_time a second (16 ms, a 50 ms spike every 100 frames) and an entities gauge
    await seed('measures', measuresColumns, `SELECT ${common}, 'game/loop' AS target,
      CASE WHEN i % 2 = 0 THEN 'frame_time' ELSE 'entities' END AS name, CASE WHEN i % 2 = 0 THEN 'ms' ELSE 'count' END AS unit,
      CASE WHEN i % 2 = 1 THEN 1000.0 + i WHEN i % 200 = 0 THEN 50.0 + i / 1000.0 ELSE 16.0 + (i % 7) / 10.0 END AS value FROM range(3600) r(i)`);
    gw = await startPgGateway({ engine: f.engine, port: 0 });
    client = new pg.Client({ host: '127.0.0.1', port: gw.port, user: 'sirius', database: 'sirius' });
    await client.connect();
  });
  after(async () => {
    await client?.end().catch(() => undefined);
    await gw?.close();
    await f?.close();
  });

  // the dashboard's range: the data's hour with half an hour either side; a 1-minute interval
  const ctx = { from: new Date('2024-05-01T09:30:00Z'), to: new Date('2024-05-01T11:30:00Z'), intervalMs: 60_000 };

  test('the data source is provisioned under the uid every panel and variable uses', async () => {
    const yaml = await readFile(join(GRAFANA, 'provisioning', 'datasources', 'sirius.yaml'), 'utf8');
    const uid = /^\s+uid:\s*(\S+)\s*$/m.exec(yaml)?.[1];
    assert.equal(uid, 'sirius');
    assert.match(yaml, /^\s+type:\s*postgres\s*$/m);
    const used = new Set([...dashboard.panels.flatMap((p) => p.targets.map((t) => t.datasource.uid)), ...dashboard.templating.list.map((v) => v.datasource.uid)]);
    assert.deepEqual([...used], [uid]);
    const provider = await readFile(join(GRAFANA, 'provisioning', 'dashboards', 'sirius.yaml'), 'utf8');
    assert.match(provider, /path: \/var\/lib\/grafana\/dashboards\/sirius/);
  });

  test('the metric variable lists the metrics in the range', async () => {
    const v = dashboard.templating.list.find((x) => x.name === 'metric')!;
    const r = await client.query(expandGrafanaSql(v.query, ctx));
    assert.deepEqual(r.rows.map((x) => x.name), ['entities', 'frame_time']);
  });

  test('every panel returns rows, shaped as its format asks', async () => {
    const titles = dashboard.panels.map((p) => p.title);
    assert.deepEqual(titles, ['Logs volume by level', 'Error rate', '$metric percentiles', 'Slowest frames', 'Latest errors']);
    const results = new Map<string, pg.QueryResult>();
    for (const panel of dashboard.panels) {
      for (const t of panel.targets) {
        const sql = expandGrafanaSql(t.rawSql, { ...ctx, variables: { metric: 'frame_time' } });
        assert.ok(!sql.includes('$'), `${panel.title}: unexpanded ${sql}`);
        const r = await client.query(sql).catch((err: Error) => assert.fail(`${panel.title}: ${err.message}\n${sql}`));
        assert.ok(r.rows.length > 0, `${panel.title}: no rows`);
        if (t.format === 'time_series') assert.equal(r.fields[0]!.name, 'time', `${panel.title}: a time series starts with "time"`);
        results.set(panel.title, r);
      }
    }
    // logs volume: 60 one-minute buckets × 6 levels, adding up to every log entry
    const volume = results.get('Logs volume by level')!;
    assert.equal(volume.rows.length, 360);
    assert.equal(volume.rows.reduce((n, r) => n + Number(r.logs), 0), 3600);
    assert.deepEqual([...new Set(volume.rows.map((r) => r.metric))].sort(), ['debug', 'error', 'fatal', 'info', 'trace', 'warn']);
    // error rate: 20 of the 60 entries a minute are fatal or error
    const errors = results.get('Error rate')!;
    assert.equal(errors.rows.length, 60);
    for (const r of errors.rows) {
      assert.equal(Number(r['errors/s']), 20 / 60);
      assert.equal(Number(r['error share']), 1 / 3);
    }
    // percentiles: a row a minute, ordered, and p99 ≤ max
    const pct = results.get('$metric percentiles')!;
    assert.equal(pct.rows.length, 60);
    for (const r of pct.rows) assert.ok(Number(r.p50) <= Number(r.p90) && Number(r.p99) <= Number(r.max));
    // slowest frames: the 18 spikes first, slowest first, timestamps as instants
    const slow = results.get('Slowest frames')!;
    assert.equal(slow.rows.length, 20);
    assert.deepEqual(slow.rows.slice(0, 3).map((r) => Number(r.frame_ms)), [53.4, 53.2, 53.0]);
    assert.equal((slow.rows[0].time as Date).toISOString(), '2024-05-01T10:56:40.000Z');
    // latest errors: 100 entries, newest first, all fatal or error
    const latest = results.get('Latest errors')!;
    assert.equal(latest.rows.length, 100);
    assert.deepEqual([...new Set(latest.rows.map((r) => r.level))].sort(), ['error', 'fatal']);
    assert.equal((latest.rows[0].time as Date).toISOString(), '2024-05-01T10:59:55.000Z');
  });
});
