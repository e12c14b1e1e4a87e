import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openLake, type OpenedLake } from '../../src/lake/open-lake.js';
import { createLakehouse, startDaemon } from '../../src/lakehouse/index.js';
import { pgBackends } from '../support/pg.js';
import { logBlock, makeProcess, makeStream, post, readParquetRows, startTestLake, T0, until, type ExpectedLog, type TestLake } from './lake-fixtures.js';

const ALL = { begin: T0 - 1_000_000_000_000n, end: T0 + 1_000_000_000_000n };

async function untilNextSecond(): Promise<void> {
  const s = Math.floor(Date.now() / 1000);
  await until('the clock to reach the next second', async () => Math.floor(Date.now() / 1000) > s, 3000);
}

async function visible(t: TestLake, view: string, columns: string, order: string) {
  const src = await createLakehouse({ lake: t.server.lake, dataDir: t.dir }).resolve(view, 'global', ALL);
  try {
    return await readParquetRows([...src.objectKeys.map((k) => t.server.lake.objects.localPath(k)!), ...src.localFiles], columns, order);
  } finally {
    await src.release();
  }
}

for (const backend of pgBackends) {
  describe(`two lakehouse daemons (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestLake;
    const logs: ExpectedLog[] = [];
    before(async () => {
      t = await startTestLake(backend);
    });
    after(async () => t?.close());

    test('two daemons on the same lake produce each row once', async () => {
      const proc = makeProcess();
      const ls = makeStream(proc.process_id, ['log']);
      await post(t.server, 'insert_process', proc);
      await post(t.server, 'insert_stream', ls);
      const second: OpenedLake | null = t.connectionString
        ? await openLake({ sqlConnectionString: t.connectionString, dataDir: t.dir, objectStoreUri: t.objectStoreUri })
        : null;
      const d1 = startDaemon({ lake: t.server.lake, dataDir: t.dir, intervalMs: 10, lagMs: 0, quiet: true });
      const d2 = startDaemon({ lake: second ?? t.server.lake, dataDir: t.dir, intervalMs: 10, lagMs: 0, quiet: true });
      const sent: ExpectedLog[] = [];
      try {
        for (let i = 0; i < 30; i++) {
          const b = logBlock(ls, 100 + i, 20);
          await post(t.server, 'insert_block', b.body);
          sent.push(...b.rows);
          if (i % 10 === 9) await untilNextSecond();
        }
        await until('the two daemons to materialize everything', async () => {
          const n = await t.server.lake.sql.query<{ n: string }>(
            `SELECT coalesce(sum(num_rows), 0) AS n FROM lakehouse_partitions WHERE view_set = 'log_entries' AND begin_insert_time >= $1`,
            [0],
          );
          return Number(n[0]!.n) >= logs.length + sent.length;
        });
      } finally {
        await d1.stop();
        await d2.stop();
        await second?.close();
      }
      const rows = await visible(t, 'log_entries', 'block_id, msg', 'block_id, msg');
      const keys = rows.map((r) => `${r.block_id}/${r.msg}`);
      assert.equal(new Set(keys).size, keys.length, 'no row twice');
      assert.deepEqual(keys.sort(), [...logs, ...sent].map((e) => `${e.block_id}/${e.msg}`).sort());
    });
  });
}
