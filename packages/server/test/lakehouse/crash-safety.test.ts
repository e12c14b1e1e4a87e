/**
 * Kills a daemon (a child process) at seeded random moments while it materializes and compacts, restarts
 * it, and checks that the visible partitions hold every row sent exactly once. Step pauses widen the windows
 * between upload and commit, and tiny compaction spans make compaction run within seconds.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createLakehouse } from '../../src/lakehouse/index.js';
import { purgeRetiredObjects } from '../../src/lakehouse/compactor.js';
import { ABANDONED_AFTER_NS } from '../../src/lakehouse/partition-repository.js';
import { pgBackends } from '../support/pg.js';
import { logBlock, makeProcess, makeStream, post, readParquetRows, startTestLake, T0, until, type ExpectedLog, type TestLake } from './lake-fixtures.js';

const ITERATIONS = 20;
const ALL = { begin: T0 - 1_000_000_000_000n, end: T0 + 1_000_000_000_000n };
const child = fileURLToPath(new URL('./crash-daemon-child.ts', import.meta.url));

/** mulberry32: a seeded PRNG so a failing run can be replayed */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function startChild(t: TestLake): Promise<ChildProcess> {
  const p = spawn(process.execPath, ['--import', 'tsx', child], {
    env: {
      ...process.env,
      CRASH_SQL: t.connectionString,
      CRASH_DIR: t.dir,
      CRASH_OBJECTS: t.objectStoreUri,
      SIRIUS_LAKEHOUSE_STEP_PAUSE_MS: '15',
      SIRIUS_LAKEHOUSE_TEST_SPANS_MS: '2000,6000',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    p.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve(p);
    });
    p.on('exit', (code) => reject(new Error(`daemon child exited early (${code})`)));
  });
}

function kill(p: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve();
    p.removeAllListeners('exit');
    p.on('exit', () => resolve());
    p.kill('SIGKILL');
  });
}

async function visible(t: TestLake) {
  const src = await createLakehouse({ lake: t.server.lake, dataDir: t.dir }).resolve('log_entries', 'global', ALL);
  try {
    const committed = await readParquetRows(src.objectKeys.map((k) => t.server.lake.objects.localPath(k)!), 'block_id, msg', 'block_id, msg');
    const tail = await readParquetRows(src.localFiles, 'block_id, msg', 'block_id, msg');
    return { committed: committed.map((r) => `${r.block_id}/${r.msg}`), tail: tail.map((r) => `${r.block_id}/${r.msg}`) };
  } finally {
    await src.release();
  }
}

for (const backend of pgBackends) {
  const skip =
    backend.skip ||
    (backend.name === 'pglite' ? 'PGlite is one in-process session: a daemon in another process cannot share it (the PostgreSQL variant runs this test)' : false);
  describe(`lakehouse crash safety (${backend.name})`, { skip }, () => {
    let t: TestLake;
    before(async () => {
      t = await startTestLake(backend);
    });
    after(async () => t?.close());

    test(`a daemon killed ${ITERATIONS} times at random points loses and duplicates nothing`, { timeout: 150_000 }, async () => {
      const seed = Number(process.env.SIRIUS_CRASH_SEED ?? 20251123);
      const rand = prng(seed);
      const proc = makeProcess();
      const ls = makeStream(proc.process_id, ['log']);
      await post(t.server, 'insert_process', proc);
      await post(t.server, 'insert_stream', ls);
      const sent: ExpectedLog[] = [];
      let index = 0;
      for (let i = 0; i < ITERATIONS; i++) {
        for (let k = 0; k < 3; k++) {
          const b = logBlock(ls, index++, 25);
          await post(t.server, 'insert_block', b.body);
          sent.push(...b.rows);
        }
        const p = await startChild(t);
        await new Promise((r) => setTimeout(r, 20 + Math.floor(rand() * 400))); // the crash point, not a synchronization
        await kill(p);
        // whatever the crash left, queries see every row exactly once (partitions + unmaterialized tail)
        const v = await visible(t);
        const all = [...v.committed, ...v.tail];
        assert.equal(new Set(all).size, all.length, `seed ${seed}, iteration ${i}: a row is visible twice`);
        assert.equal(all.length, sent.length, `seed ${seed}, iteration ${i}: rows missing`);
      }
      const p = await startChild(t);
      try {
        await until('the restarted daemon to materialize and compact everything', async () => {
          const v = await visible(t);
          const parts = await t.server.lake.sql.query<{ n: string }>(
            `SELECT count(*) AS n FROM lakehouse_partitions WHERE view_set = 'log_entries' AND end_insert_time - begin_insert_time < 2000000000`,
          );
          return v.tail.length === 0 && v.committed.length === sent.length && Number(parts[0]!.n) <= 2;
        }, 60_000);
      } finally {
        await kill(p);
      }
      const v = await visible(t);
      assert.equal(new Set(v.committed).size, v.committed.length, 'no duplicates');
      assert.deepEqual([...v.committed].sort(), sent.map((e) => `${e.block_id}/${e.msg}`).sort());
      const merged = await t.server.lake.sql.query<{ n: string }>(
        `SELECT count(*) AS n FROM lakehouse_partitions WHERE view_set = 'log_entries' AND end_insert_time - begin_insert_time >= 2000000000`,
      );
      assert.ok(Number(merged[0]!.n) > 0, 'compaction ran');
      // every object the kills left half-done is scheduled: once its time has passed (a negative grace moves
      // the purge's clock past it), the lake holds exactly the objects of live partitions, and reads the same
      const purged = await purgeRetiredObjects(t.server.lake, -(ABANDONED_AFTER_NS + 1_000_000_000n), 10_000);
      const objects: string[] = [];
      for await (const o of t.server.lake.objects.list('views/')) objects.push(o.key);
      const live = await t.server.lake.sql.query<{ file_path: string }>('SELECT file_path FROM lakehouse_partitions');
      assert.deepEqual(objects.sort(), live.map((r) => r.file_path).sort(), `after purging ${purged} scheduled objects`);
      assert.deepEqual([...(await visible(t)).committed].sort(), sent.map((e) => `${e.block_id}/${e.msg}`).sort());
    });
  });
}
