/**
 * Time on every interface: time columns are UTC instants that compare with zoned timestamps (`now()`,
 * `current_timestamp`, `'…'::timestamptz`, time-zone-aware parameters), arrive as `timestamp[ns, UTC]` in
 * Arrow and `timestamptz` over the PostgreSQL wire; and a query with no explicit range reads the range its
 * own predicates on time allow — data from 8 days ago is found over the PostgreSQL gateway and Flight SQL
 * by `time BETWEEN …`, reading only the partition that range overlaps.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import pg from 'pg';
import { tableFromIPC, TimeUnit, type Timestamp } from 'apache-arrow';
import { DuckDBInstance } from '@duckdb/node-api';
import { createFlightSqlClient } from '@lakehouse-rs/flight-sql-client';
import { startEngine, type EngineFixture } from '../analytics/engine-fixture.js';
import { createQueryRoutes, ARROW_STREAM } from '../../src/endpoints/http-query.js';
import { startPgGateway, type PgGateway } from '../../src/endpoints/pg-wire/index.js';
import { startFlightSqlServer, type FlightSqlServer } from '../../src/endpoints/flight-sql/index.js';
import type { QueryEngine, QueryStats } from '../../src/analytics/query-engine.js';
import { insertPartition } from '../../src/lakehouse/partition-repository.js';
import { partitionKey, putPartitionObject } from '../../src/lakehouse/partition-files.js';
import { logEntriesColumns, columnsDdl } from '../../src/lakehouse/view-columns.js';
import { PYTHON, pythonSkip } from '../support/debian-python.js';

const HOUR = 3_600_000_000_000n;
const MINUTE = 60_000_000_000n;
const floorHour = (ns: bigint) => ns - (ns % HOUR);
const iso = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString();
const nowNs = () => BigInt(Date.now()) * 1_000_000n;

describe('time as UTC instants, and the range a query bounds itself to', () => {
  let f: EngineFixture;
  let server: Server;
  let url: string;
  let gw: PgGateway;
  let flight: FlightSqlServer;
  const seen: QueryStats[] = [];
  const pgClients: pg.Client[] = [];
  // three hourly partitions 8 days back, one an hour back; 60 rows each, one a minute at +123 ns
  const old = floorHour(nowNs() - 8n * 24n * HOUR);
  const recent = floorHour(nowNs() - HOUR);
  const hours = [old - HOUR, old, old + HOUR, recent];
  const keys: string[] = [];

  const pgConnect = async () => {
    const c = new pg.Client({ host: '127.0.0.1', port: gw.port, user: 'sirius', database: 'sirius' });
    pgClients.push(c);
    await c.connect();
    return c;
  };

  before(async () => {
    f = await startEngine({ objectStore: 'memory', limits: { timeoutMs: 30_000 } });
    const duck = await DuckDBInstance.create(':memory:');
    const c = await duck.connect();
    await c.run(`CREATE TABLE t (${columnsDdl(logEntriesColumns)})`);
    for (const begin of hours) {
      const path = join(f.dir, `h${begin}.parquet`);
      await c.run(`COPY (SELECT 'p1' AS process_id, 's1' AS stream_id, 'b' AS block_id, make_timestamp_ns(${begin}::BIGINT) AS insert_time,
          'exe' AS exe, 'u' AS username, 'c' AS computer, make_timestamp_ns(${begin}::BIGINT + i * ${MINUTE}::BIGINT + 123) AS time,
          't' AS target, 3::INTEGER AS level, 'm' || i AS msg, NULL::MAP(VARCHAR, VARCHAR) AS properties,
          NULL::MAP(VARCHAR, VARCHAR) AS process_properties FROM range(60) r(i)) TO '${path}' (FORMAT parquet)`);
      const key = partitionKey('log_entries', 'global', begin, begin + HOUR);
      const body = await readFile(path);
      await putPartitionObject(f.lake, key, body);
      await insertPartition(f.lake.sql, {
        view_set: 'log_entries', view_instance: 'global', begin_insert_time: begin, end_insert_time: begin + HOUR,
        min_event_time: begin, max_event_time: begin + 59n * MINUTE + 123n, file_path: key, file_size: body.byteLength,
        num_rows: 60, file_schema_hash: 'test', source_data_hash: `h${begin}`, created_time: begin + HOUR,
      });
      keys.push(key);
    }
    c.closeSync();
    duck.closeSync();
    const app = new Hono();
    app.route('/api', createQueryRoutes({ engine: f.engine }));
    server = await new Promise<Server>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }) as Server;
      s.once('listening', () => resolve(s));
      s.once('error', reject);
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // the gateway's engine notes what each query read, so the test can see the pruning
    const recording = new Proxy(f.engine, {
      get(target, prop) {
        if (prop === 'query') {
          return async (...args: Parameters<QueryEngine['query']>) => {
            const out = await target.query(...args);
            seen.push(out.stats);
            return out;
          };
        }
        if (prop === 'stream') {
          // a streamed result's stats are known once it is read to the end (or closed)
          return async (...args: Parameters<QueryEngine['stream']>) => {
            const stream = await target.stream(...args);
            const close = stream.close.bind(stream);
            let noted = false;
            return Object.assign(Object.create(stream) as typeof stream, {
              close: async () => {
                await close();
                // once, whether the query ended before the close (read to the end) or with it
                if (!noted && stream.stats) seen.push(stream.stats);
                noted = true;
              },
            });
          };
        }
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    gw = await startPgGateway({ engine: recording, port: 0 });
    flight = await startFlightSqlServer({ engine: f.engine, port: 0 });
  });
  after(async () => {
    for (const c of pgClients) await c.end().catch(() => undefined);
    await flight?.close();
    await gw?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await f?.close();
  });

  const httpQuery = async (sql: string, arrow = false) => {
    const r = await fetch(`${url}/api/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(arrow ? { accept: ARROW_STREAM } : {}) },
      body: JSON.stringify({ sql, begin: '30d', end: 'now' }),
    });
    assert.equal(r.status, 200, await r.clone().text());
    return r;
  };

  test('HTTP: time compares with now(), current_timestamp and zoned literals; Arrow says timestamp[ns, UTC]', async () => {
    const counts: [string, number][] = [
      [`time >= now() - INTERVAL '2 hours'`, 60],
      [`time >= current_timestamp - INTERVAL 9 DAY`, 240],
      [`time BETWEEN '${iso(old)}'::timestamptz AND '${iso(old + HOUR)}'::timestamptz`, 60],
      // the same instant written in another zone
      [`time >= TIMESTAMPTZ '${iso(old + 30n * MINUTE).replace('Z', '+00:00')}' AND time < to_timestamp(${Number((old + HOUR) / 1_000_000_000n)})`, 30],
      [`time IN ('${iso(old)}'::timestamptz, now())`, 0],
      [`date_bin('1 hour', time) = '${iso(old)}'::timestamptz`, 60],
    ];
    for (const [where, n] of counts) {
      const r = await httpQuery(`SELECT count(*) AS n FROM log_entries WHERE ${where}`);
      const body = (await r.json()) as { rows: { n: number }[] };
      assert.equal(body.rows[0]!.n, n, where);
    }
    const r = await httpQuery(`SELECT time, now() AS now, epoch('2024-05-01 00:00:00'::TIMESTAMPTZ)::BIGINT AS zoned FROM log_entries WHERE time >= '${iso(old)}' ORDER BY time LIMIT 1`, true);
    const table = tableFromIPC(new Uint8Array(await r.arrayBuffer()));
    const type = table.schema.fields[0]!.type as Timestamp;
    assert.equal(type.unit, TimeUnit.NANOSECOND);
    assert.equal(type.timezone, 'UTC');
    assert.equal((table.schema.fields[1]!.type as Timestamp).timezone, 'UTC');
    // a time without a zone is read in the instance's zone: UTC, whatever the host's
    assert.equal(table.getChild('zoned')!.get(0), 1_714_521_600n);
    const raw = table.getChild('time')!.data[0]!.values as unknown as BigInt64Array;
    assert.equal(raw[0], old + 123n, 'nanoseconds kept');
    // JSON keeps every digit too
    const json = (await (await httpQuery(`SELECT time FROM log_entries WHERE time >= '${iso(old)}' ORDER BY time LIMIT 1`)).json()) as { rows: { time: string }[] };
    assert.equal(json.rows[0]!.time, `${iso(old).slice(0, -1)}000123Z`);
  });

  test('PostgreSQL gateway: no explicit range, time BETWEEN 8 days ago finds the rows and reads only that partition', async () => {
    const c = await pgConnect();
    seen.length = 0;
    const r = await c.query(`SELECT count(*)::INTEGER AS n, min(time) AS lo FROM log_entries WHERE time BETWEEN '${iso(old)}' AND '${iso(old + 59n * MINUTE)}'`);
    assert.equal(r.rows[0].n, 59); // the last row is at +59 min +123 ns, past the upper bound
    assert.equal((r.rows[0].lo as Date).getTime(), Number(old / 1_000_000n), 'timestamptz: the right instant whatever the client zone');
    assert.deepEqual(seen.map((s) => s.files), [[keys[1]]]);
    assert.equal(seen[0]!.begin, old.toString());
    // with nothing bounding time, the default (the last 24 h) applies: only the recent hour
    seen.length = 0;
    assert.equal((await c.query('SELECT count(*)::INTEGER AS n FROM log_entries')).rows[0].n, 60);
    assert.deepEqual(seen[0]!.files, [keys[3]]);
    // now() - interval, and time-zone-aware parameters (pg sends a Date with the client's offset)
    assert.equal((await c.query(`SELECT count(*)::INTEGER AS n FROM log_entries WHERE time >= now() - interval '9 days'`)).rows[0].n, 240);
    const from = new Date(Number((old + 30n * MINUTE) / 1_000_000n));
    const to = new Date(Number((old + 40n * MINUTE) / 1_000_000n));
    seen.length = 0;
    const p = await c.query('SELECT count(*)::INTEGER AS n FROM log_entries WHERE time >= $1 AND time < $2', [from, to]);
    assert.equal(p.rows[0].n, 10);
    assert.deepEqual(seen[0]!.files, [keys[1]]);
    // an explicit range still wins over the query's own bounds
    await c.query(`SET sirius.begin = '2h'`);
    assert.equal((await c.query(`SELECT count(*)::INTEGER AS n FROM log_entries WHERE time BETWEEN '${iso(old)}' AND '${iso(old + HOUR)}'`)).rows[0].n, 0);
  });

  test('psycopg2: time-zone-aware datetime parameters compare with time and bound the range; rows come back as aware datetimes', { skip: pythonSkip(['psycopg2']) }, async () => {
    const script = [
      'import sys, datetime, psycopg2',
      'c = psycopg2.connect(host="127.0.0.1", port=int(sys.argv[1]), user="sirius", dbname="sirius")',
      'cur = c.cursor()',
      'paris = datetime.timezone(datetime.timedelta(hours=2))',
      'lo = datetime.datetime.fromtimestamp(int(sys.argv[2]), tz=datetime.timezone.utc).astimezone(paris)',
      'cur.execute("SELECT count(*), min(time) FROM log_entries WHERE time >= %s AND time < %s", (lo, lo + datetime.timedelta(minutes=10)))',
      'n, first = cur.fetchone()',
      'print(n, first.isoformat())',
    ].join('\n');
    const out = await new Promise<string>((resolve, reject) => {
      execFile(PYTHON, ['-c', script, String(gw.port), String((old + 30n * MINUTE) / 1_000_000_000n)], (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
    });
    // ten rows of the partition 8 days back: found with no range set, so the range came from the parameters
    assert.equal(out.trim(), `10 ${iso(old + 30n * MINUTE).replace('.000Z', '+00:00')}`);
  });

  test('Flight SQL: no range header, time BETWEEN 8 days ago finds the rows; query_range_begin / query_range_end win when sent', async () => {
    const count = async (headers: { key: string; value: string }[]) => {
      const client = await createFlightSqlClient({ host: '127.0.0.1', port: flight.port, tls: false, headers });
      const buf = await client.query(`SELECT count(*) AS n, min(time) AS lo FROM log_entries WHERE time BETWEEN '${iso(old)}' AND '${iso(old + HOUR)}'`);
      const t = tableFromIPC(buf);
      assert.equal((t.schema.fields[1]!.type as Timestamp).timezone, 'UTC');
      return Number(t.getChild('n')!.get(0));
    };
    assert.equal(await count([]), 60);
    assert.equal(await count([{ key: 'query_range_begin', value: iso(recent) }, { key: 'query_range_end', value: new Date().toISOString() }]), 0);
    assert.equal(await count([{ key: 'query_range_begin', value: iso(old + 30n * MINUTE) }]), 30);
  });

  test('the engine prunes to the derived range and says which range it used', async () => {
    const out = await f.engine.query(`SELECT count(*) AS n FROM log_entries WHERE time >= '${iso(old - HOUR)}' AND time < '${iso(old + HOUR)}'`, {});
    assert.deepEqual([...out.stats.files].sort(), [keys[0], keys[1]].sort());
    assert.equal(out.table.getChild('n')!.get(0), 120n);
    assert.deepEqual([out.stats.begin, out.stats.end], [(old - HOUR).toString(), (old + HOUR).toString()]);
  });
});
