/**
 * One conformance suite for `SqlClient`, the migrations and the repositories above it, run against every
 * backend: embedded PGlite and the PostgreSQL server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openSqlClient } from '../../src/lake/open-sql-client.js';
import { runMigrations, schemaVersion } from '../../src/lake/migrate.js';
import { migrations } from '../../src/lake/migrations/index.js';
import { getProcess, insertProcess } from '../../src/lake/process-repository.js';
import { getStream, insertStream, streamOwners } from '../../src/lake/stream-repository.js';
import { getBlock, insertBlocks, listStreamBlocks, type BlockRecord } from '../../src/lake/block-repository.js';
import { BlockBatcher } from '../../src/lake/block-batcher.js';
import type { SqlClient } from '../../src/lake/sql-client.js';
import { pgBackends } from '../support/pg.js';
import { makeProcess, makeStream } from '../ingestion/fixtures.js';

function blockRow(streamId: string, processId: string, i: number): BlockRecord {
  return {
    block_id: randomUUID(),
    stream_id: streamId,
    process_id: processId,
    begin_time: 1_000_000n * BigInt(i),
    begin_ticks: 10n * BigInt(i),
    end_time: 1_000_000n * BigInt(i + 1) - 1n,
    end_ticks: 10n * BigInt(i + 1) - 1n,
    nb_objects: i + 1,
    object_offset: 9_007_199_254_740_993n, // beyond 2^53: must survive without rounding
    payload_size: 65_536 + i,
    insert_time: 1_763_890_000_000_000_000n + BigInt(i),
  };
}

for (const backend of pgBackends) {
  describe(`SqlClient conformance (${backend.name})`, { skip: backend.skip }, () => {
    let db: Awaited<ReturnType<typeof backend.create>>;
    let sql: SqlClient;
    const open = () => openSqlClient(db.connectionString, { inMemory: true });

    before(async () => {
      db = await backend.create();
      sql = await open();
    });
    after(async () => {
      await sql?.close();
      await db?.drop();
    });

    test('reports its dialect', () => assert.equal(sql.dialect, backend.name));

    test('values come back in the same shapes on every backend', async () => {
      const [r] = await sql.query<Record<string, unknown>>(
        `SELECT $1::bigint AS big, 7::integer AS int, $2::jsonb AS json, $3::bytea AS bytes, $4::text[] AS tags, NULL::text AS nothing`,
        [9_007_199_254_740_993n, JSON.stringify({ a: 'b' }), new Uint8Array([1, 2, 255]), ['x', 'y']],
      );
      assert.equal(r!.big, '9007199254740993');
      assert.equal(r!.int, 7);
      assert.deepEqual(r!.json, { a: 'b' });
      assert.ok(r!.bytes instanceof Uint8Array);
      assert.deepEqual([...(r!.bytes as Uint8Array)], [1, 2, 255]);
      assert.deepEqual(r!.tags, ['x', 'y']);
      assert.equal(r!.nothing, null);
    });

    test('a SQL error rejects with the server message', async () => {
      await assert.rejects(sql.query('SELECT * FROM no_such_table'), /no_such_table/);
    });

    describe('transactions', () => {
      before(() => sql.query('CREATE TABLE tx_probe (k text PRIMARY KEY, n integer NOT NULL)'));

      test('commit when fn resolves, roll back when it throws', async () => {
        const out = await sql.transaction(async (tx) => {
          await tx.query(`INSERT INTO tx_probe VALUES ('a', 1)`);
          return 'done';
        });
        assert.equal(out, 'done');
        await assert.rejects(
          sql.transaction(async (tx) => {
            await tx.query(`INSERT INTO tx_probe VALUES ('b', 1)`);
            throw new Error('boom');
          }),
          /boom/,
        );
        const rows = await sql.query<{ k: string }>('SELECT k FROM tx_probe ORDER BY k');
        assert.deepEqual(rows.map((r) => r.k), ['a']);
      });

      test('a nested transaction rolls back alone (savepoint)', async () => {
        await sql.transaction(async (tx) => {
          await tx.query(`INSERT INTO tx_probe VALUES ('c', 1)`);
          await assert.rejects(
            tx.transaction(async (inner) => {
              await inner.query(`INSERT INTO tx_probe VALUES ('d', 1)`);
              throw new Error('inner');
            }),
          );
        });
        const rows = await sql.query<{ k: string }>(`SELECT k FROM tx_probe WHERE k IN ('c', 'd') ORDER BY k`);
        assert.deepEqual(rows.map((r) => r.k), ['c']);
      });

      test('concurrent read-modify-write transactions do not interleave', async () => {
        await sql.query(`INSERT INTO tx_probe VALUES ('counter', 0)`);
        await Promise.all(
          Array.from({ length: 10 }, () =>
            sql.transaction(async (tx) => {
              // row lock on the server; the single queued session on PGlite
              const [r] = await tx.query<{ n: number }>(`SELECT n FROM tx_probe WHERE k = 'counter' FOR UPDATE`);
              await tx.query(`UPDATE tx_probe SET n = $1 WHERE k = 'counter'`, [r!.n + 1]);
            }),
          ),
        );
        const [r] = await sql.query<{ n: number }>(`SELECT n FROM tx_probe WHERE k = 'counter'`);
        assert.equal(r!.n, 10);
      });
    });

    describe('migrations', () => {
      test('bring an empty database to the latest version, once, even when started concurrently', async () => {
        assert.equal(await schemaVersion(sql), 0);
        const other = await open();
        try {
          // on PGlite `other` is a second in-memory database; on the server it is a second pool on the same one
          const clients = backend.name === 'postgres' ? [sql, other, sql] : [sql, sql];
          const versions = await Promise.all(clients.map((c) => runMigrations(c)));
          assert.deepEqual(versions, clients.map(() => migrations.length));
        } finally {
          await other.close();
        }
        assert.equal(await schemaVersion(sql), migrations.length);
        const applied = await sql.query<{ version: number }>('SELECT version FROM migrations ORDER BY version');
        assert.deepEqual(applied.map((r) => r.version), migrations.map((m) => m.version));
        assert.equal(await runMigrations(sql), migrations.length);
      });

      test('the metadata tables and indexes exist', async () => {
        const tables = await sql.query<{ t: string }>(
          `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1`,
        );
        for (const t of ['api_keys', 'blocks', 'migrations', 'processes', 'streams']) assert.ok(tables.some((r) => r.t === t), t);
        const idx = await sql.query<{ i: string }>(`SELECT indexname AS i FROM pg_indexes WHERE tablename = 'blocks'`);
        for (const i of ['blocks_stream_begin', 'blocks_insert_time', 'blocks_process_begin']) assert.ok(idx.some((r) => r.i === i), i);
      });

      test('a list out of order is refused', async () => {
        await assert.rejects(runMigrations(sql, [{ ...migrations[0]!, version: 2 }]), /out of order/);
      });

      test('a database newer than the server is refused', async () => {
        await assert.rejects(runMigrations(sql, []), /newer than this server knows/);
      });
    });

    describe('repositories', () => {
      test('processes: insert is idempotent, lookup returns what was sent', async () => {
        const p = { ...makeProcess(), parent_process_id: randomUUID() };
        assert.equal(await insertProcess(sql, p), true);
        assert.equal(await insertProcess(sql, { ...p, exe: 'changed' }), false);
        const got = await getProcess(sql, p.process_id);
        assert.ok(got);
        const { insert_time, ...rest } = got;
        assert.deepEqual(rest, p);
        assert.equal(typeof insert_time, 'bigint');
        assert.equal(await getProcess(sql, randomUUID()), null);
      });

      test('streams: insert is idempotent, lookup and owners', async () => {
        const p = makeProcess();
        const s = makeStream(p.process_id, ['log', 'cpu']);
        assert.equal(await insertStream(sql, s), true);
        assert.equal(await insertStream(sql, s), false);
        const got = await getStream(sql, s.stream_id);
        assert.deepEqual(
          { stream_id: got!.stream_id, process_id: got!.process_id, tags: got!.tags, properties: got!.properties },
          s,
        );
        assert.equal(got!.dependencies_metadata, null);
        const missing = randomUUID();
        const owners = await streamOwners(sql, [s.stream_id, missing]);
        assert.deepEqual([...owners], [[s.stream_id, p.process_id]]);
      });

      test('blocks: one batched insert, duplicates skipped, exact bigints', async () => {
        const sid = randomUUID();
        const pid = randomUUID();
        const rows = Array.from({ length: 5 }, (_, i) => blockRow(sid, pid, i));
        assert.equal(await insertBlocks(sql, rows), 5);
        assert.equal(await insertBlocks(sql, [rows[0]!, blockRow(sid, pid, 5)]), 1);
        assert.equal(await insertBlocks(sql, []), 0);
        assert.deepEqual(await getBlock(sql, rows[2]!.block_id), rows[2]);
        const inRange = await listStreamBlocks(sql, sid, 1_500_000n, 3_000_000n);
        assert.deepEqual(inRange.map((b) => b.block_id), [rows[1]!.block_id, rows[2]!.block_id]);
      });

      test('BlockBatcher: concurrent inserts share batches, each caller sees its commit', async () => {
        const sid = randomUUID();
        const pid = randomUUID();
        const batcher = new BlockBatcher(sql, { lingerMs: 5, maxRows: 16 });
        const rows = Array.from({ length: 50 }, (_, i) => blockRow(sid, pid, i));
        await Promise.all([...rows, rows[3]!].map((r) => batcher.insert(r)));
        const [n] = await sql.query<{ n: string }>('SELECT count(*) AS n FROM blocks WHERE stream_id = $1', [sid]);
        assert.equal(Number(n!.n), 50);
        const late = blockRow(sid, pid, 99);
        const pending = batcher.insert(late);
        await batcher.close();
        await pending;
        assert.ok(await getBlock(sql, late.block_id), 'close() flushes pending rows');
        await assert.rejects(batcher.insert(blockRow(sid, pid, 100)), /closed/);
      });

      test('BlockBatcher: a failing batch rejects every caller in it', async () => {
        const batcher = new BlockBatcher(sql, { lingerMs: 5 });
        const bad = { ...blockRow(randomUUID(), randomUUID(), 0), nb_objects: 2 ** 40 }; // overflows integer
        const good = blockRow(randomUUID(), randomUUID(), 1);
        const results = await Promise.allSettled([batcher.insert(bad), batcher.insert(good)]);
        assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
        assert.equal(await getBlock(sql, good.block_id), null);
        await batcher.close();
      });
    });

    test('close() is idempotent and later queries reject', async () => {
      const c = await open();
      await c.close();
      await c.close();
      await assert.rejects(c.query('SELECT 1'));
    });
  });
}

test('openSqlClient refuses what it cannot open', async () => {
  await assert.rejects(openSqlClient('mysql://x'), /unsupported SQL connection string/);
  await assert.rejects(openSqlClient(undefined), /connection string, a dataDir or inMemory/);
});
