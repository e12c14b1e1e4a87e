/**
 * Ingestion integrity over real HTTP, once per PostgreSQL backend (PGlite, and the server when
 * SIRIUS_TEST_PG is set):
 * - every field of a process or stream that PostgreSQL could not store (NUL, lone surrogates, integers past
 *   their column, oversized values) is refused with 400 naming the field, before anything is written;
 * - a block id is written once: the same bytes again are an idempotent 200, other bytes (or the same id for
 *   another stream) a 409 that leaves the stored object and its row exactly as they were.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { BlockMeta, StreamInfo } from '@sirius/transit';
import type { RunningServer } from '../../src/serve.js';
import { blobKey } from '../../src/lake/object-store.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { pgBackends } from '../support/pg.js';
import { lakeCounts, makeBlock, makeProcess, makeStream, useIngestionServer } from './fixtures.js';
import { useS3Endpoint } from '../support/s3rver-env.js';

function post(server: RunningServer, path: string, body: unknown) {
  const isBytes = body instanceof Uint8Array;
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    body: isBytes ? (body as Uint8Array<ArrayBuffer>) : typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': isBytes ? 'application/octet-stream' : 'application/json' },
  });
}


/** A block whose log lines say `text`, so two blocks with one id can differ in content. */
function blockSaying(stream: StreamInfo, text: string, blockId: string, events = 3): { meta: BlockMeta; body: Uint8Array } {
  return makeBlock(stream, events, blockId, text);
}

for (const backend of pgBackends) {
  describe(`ingestion integrity over HTTP (${backend.name})`, { skip: backend.skip }, () => {
    let server: RunningServer;
    useIngestionServer(backend, 'sirius-fields-', () => ({ ingestionKeys: [] }), (s) => (server = s));

    /** Sends `body`, expects 400 whose error names `field`, and nothing stored anywhere. */
    async function refused(path: string, body: unknown, field: string) {
      const before = await lakeCounts(server);
      const r = await post(server, path, body);
      const text = await r.text();
      assert.equal(r.status, 400, text);
      const { error } = JSON.parse(text) as { error: string };
      assert.ok(error.startsWith(`${field}: `), `the error names ${field}: ${error}`);
      assert.deepEqual(await lakeCounts(server), before);
    }

    describe('process fields', () => {
      const attacks: Array<[string, Record<string, unknown>, string]> = [
        ['a NUL byte in a property value', { properties: { env: 'prod\u0000uction' } }, 'properties.env'],
        ['a NUL byte in a property name', { properties: { 'e\u0000nv': 'prod' } }, 'properties name "e\\u0000nv"'],
        ['a lone low surrogate in exe', { exe: '/usr/bin/\uDC00game' }, 'exe'],
        ['a lone high surrogate at the end of computer', { computer: 'box\uD800' }, 'computer'],
        ['a lone surrogate in a property value', { properties: { user: 'al\uDBFFice' } }, 'properties.user'],
        ['a NUL byte in username', { username: '\u0000' }, 'username'],
        ['tsc_frequency 2^70 (past int64)', { tsc_frequency: 2 ** 70 }, 'tsc_frequency'],
        ['tsc_frequency 0.4 (would be stored as 0)', { tsc_frequency: 0.4 }, 'tsc_frequency'],
        ['tsc_frequency 1e9 + 0.5', { tsc_frequency: 1e9 + 0.5 }, 'tsc_frequency'],
        ['a negative tsc_frequency', { tsc_frequency: -1 }, 'tsc_frequency'],
        ['start_time one past int64', { start_time: '9223372036854775808' }, 'start_time'],
        ['start_ticks past 2^53 as a JSON number', { start_ticks: 2 ** 60 }, 'start_ticks'],
        ['a 65 KiB cpu_brand', { cpu_brand: 'x'.repeat(64 * 1024 + 1) }, 'cpu_brand'],
        ['1025 properties', { properties: Object.fromEntries(Array.from({ length: 1025 }, (_, i) => [`k${i}`, 'v'])) }, 'properties'],
      ];
      for (const [what, change, field] of attacks) {
        test(`${what}: 400 naming ${field}, no row`, async () => {
          const p = { ...makeProcess(), ...change };
          await refused('/ingestion/insert_process', p, field);
          const rows = await server.lake.sql.query('SELECT 1 FROM processes WHERE process_id = $1', [p.process_id]);
          assert.equal(rows.length, 0);
        });
      }

      test('what PostgreSQL can store is kept exactly: surrogate pairs, control characters, the largest integers', async () => {
        const p = {
          ...makeProcess(),
          exe: 'g\u{1F680}me\u0001',
          tsc_frequency: 2 ** 53 - 1,
          start_time: '9223372036854775807',
          properties: { 'ключ': 'значение \u{1F600}', tab: 'a\tb' },
        };
        const r = await post(server, '/ingestion/insert_process', p);
        assert.equal(r.status, 200, await r.clone().text());
        const [row] = await server.lake.sql.query<Record<string, unknown>>('SELECT * FROM processes WHERE process_id = $1', [p.process_id]);
        assert.equal(row!.exe, p.exe);
        assert.equal(String(row!.tsc_frequency), String(2 ** 53 - 1));
        assert.equal(String(row!.start_time), p.start_time);
        assert.deepEqual(row!.properties, p.properties);
      });
    });

    describe('stream fields', () => {
      let processId: string;
      before(async () => {
        const p = makeProcess();
        processId = p.process_id;
        assert.equal((await post(server, '/ingestion/insert_process', p)).status, 200);
      });

      const attacks: Array<[string, Partial<StreamInfo>, string]> = [
        ['a NUL byte in a tag', { tags: ['log\u0000'] }, 'tags[0]'],
        ['a lone surrogate in the thread name', { properties: { thread_name: 'worker \uD83D' } }, 'properties.thread_name'],
        ['a NUL byte in a property name', { properties: { '\u0000': 'x' } }, 'properties name "\\u0000"'],
        ['65 tags', { tags: Array.from({ length: 65 }, (_, i) => `t${i}`) }, 'tags'],
        ['a 2 KiB tag', { tags: ['t'.repeat(2048)] }, 'tags[0]'],
      ];
      for (const [what, change, field] of attacks) {
        test(`${what}: 400 naming ${field}, no row`, async () => {
          const s = { ...makeStream(processId), ...change };
          await refused('/ingestion/insert_stream', s, field);
          const rows = await server.lake.sql.query('SELECT 1 FROM streams WHERE stream_id = $1', [s.stream_id]);
          assert.equal(rows.length, 0);
        });
      }
    });

    describe('block header fields', () => {
      let stream: StreamInfo;
      before(async () => {
        const p = makeProcess();
        stream = makeStream(p.process_id);
        assert.equal((await post(server, '/ingestion/insert_process', p)).status, 200);
        assert.equal((await post(server, '/ingestion/insert_stream', stream)).status, 200);
      });

      test('nb_objects 2^32-1 (past the integer column): 400 naming nb_objects, no row, no object', async () => {
        const b = makeBlock(stream, 3);
        new DataView(b.body.buffer, b.body.byteOffset).setUint32(96, 0xffffffff, true);
        const before = await lakeCounts(server);
        const r = await post(server, '/ingestion/insert_block', b.body);
        const text = await r.text();
        assert.equal(r.status, 400, text);
        assert.match((JSON.parse(text) as { error: string }).error, /nb_objects: /);
        assert.deepEqual(await lakeCounts(server), before);
      });

      test('times at both ends of int64 are stored as they are', async () => {
        const b = makeBlock(stream, 1);
        const view = new DataView(b.body.buffer, b.body.byteOffset);
        view.setBigInt64(64, -(2n ** 63n), true);
        view.setBigInt64(80, 2n ** 63n - 1n, true);
        const r = await post(server, '/ingestion/insert_block', b.body);
        assert.equal(r.status, 200, await r.clone().text());
        const [row] = await server.lake.sql.query<Record<string, unknown>>('SELECT begin_time, end_time FROM blocks WHERE block_id = $1', [b.meta.block_id]);
        assert.equal(BigInt(row!.begin_time as string), -(2n ** 63n));
        assert.equal(BigInt(row!.end_time as string), 2n ** 63n - 1n);
      });
    });


    blockIdTests('file store', () => server, false);
  });

  describe(`ingestion integrity over HTTP (${backend.name}, S3 objects through s3rver)`, { skip: backend.skip }, () => {
    let server: RunningServer;
    let s3: S3rver | undefined;
    let s3dir: string | undefined;
    // registered first, so the bucket answers before the server opens its store
    before(async () => {
      s3dir = await mkdtemp(join(tmpdir(), 'sirius-fields-s3rver-'));
      s3 = new S3rver({ address: '127.0.0.1', port: 0, directory: s3dir, silent: true, configureBuckets: [{ name: 'bucket' }] });
      const { port } = await s3.run();
      useS3Endpoint(`http://127.0.0.1:${port}`);
    });
    useIngestionServer(backend, 'sirius-fields-s3-', () => ({ ingestionKeys: [], objectStoreUri: 's3://bucket/blocks' }), (s) => (server = s));
    // registered after the server's, so it runs once the server is closed
    after(async () => {
      await s3?.close();
      if (s3dir) await rm(s3dir, { recursive: true, force: true });
    });
    blockIdTests(
      's3',
      () => server,
      's3rver ignores If-None-Match on PUT, so racing writers both pass the HEAD check there and the last write wins (S3 and MinIO refuse the second)',
    );
  });
}

/**
 * The create-only block tests, on a server `server()` returns once started: run with the file store and
 * with S3 (s3rver), since each store keeps blocks create-only its own way.
 */
function blockIdTests(name: string, server: () => RunningServer, raceSkip: string | false): void {
describe(`a block id is written once (${name})`, () => {
    let stream: StreamInfo;
    before(async () => {
      const p = makeProcess();
      stream = makeStream(p.process_id);
      assert.equal((await post(server(), '/ingestion/insert_process', p)).status, 200);
      assert.equal((await post(server(), '/ingestion/insert_stream', stream)).status, 200);
    });

    const rowOf = async (id: string) =>
      server().lake.sql.query<Record<string, unknown>>('SELECT * FROM blocks WHERE block_id = $1', [id]);

    test('the same bytes again: 200 each time, one row, one object', async () => {
      const b = makeBlock(stream, 4);
      const before = await lakeCounts(server());
      for (let i = 0; i < 3; i++) {
        const r = await post(server(), '/ingestion/insert_block', b.body);
        assert.equal(r.status, 200, await r.clone().text());
        assert.deepEqual(await r.json(), { block_id: b.meta.block_id });
      }
      assert.deepEqual(await lakeCounts(server()), { ...before, blocks: before.blocks + 1, objects: before.objects + 1 });
    });

    test('the same id with other content (the fuzzer\'s rewrite): 409 naming the id; object and row unchanged', async () => {
      const id = randomUUID();
      const original = blockSaying(stream, 'original', id, 3);
      assert.equal((await post(server(), '/ingestion/insert_block', original.body)).status, 200);
      const rowBefore = await rowOf(id);
      const before = await lakeCounts(server());
      // other bytes of every kind: other messages, other event count and times, and a bit flipped nowhere else
      const rewrites = [blockSaying(stream, 'rewritten', id, 3).body, blockSaying(stream, 'original', id, 7).body];
      for (const body of rewrites) {
        const r = await post(server(), '/ingestion/insert_block', body);
        const text = await r.text();
        assert.equal(r.status, 409, text);
        assert.match((JSON.parse(text) as { error: string }).error, new RegExp(id));
      }
      const stored = await server().lake.objects.get(blobKey(stream.process_id, stream.stream_id, id));
      assert.deepEqual(Buffer.from(stored), Buffer.from(original.body));
      assert.deepEqual(await rowOf(id), rowBefore);
      assert.deepEqual(await lakeCounts(server()), before);
      // and the original is still an idempotent success
      assert.equal((await post(server(), '/ingestion/insert_block', original.body)).status, 200);
    });

    test('the same id sent for another process and stream: 409, the row unchanged, no object left under the other key', async () => {
      const id = randomUUID();
      assert.equal((await post(server(), '/ingestion/insert_block', blockSaying(stream, 'mine', id).body)).status, 200);
      const rowBefore = await rowOf(id);
      const other = makeProcess();
      const otherStream = makeStream(other.process_id);
      await post(server(), '/ingestion/insert_process', other);
      await post(server(), '/ingestion/insert_stream', otherStream);
      const before = await lakeCounts(server());
      const r = await post(server(), '/ingestion/insert_block', blockSaying(otherStream, 'theirs', id).body);
      const text = await r.text();
      assert.equal(r.status, 409, text);
      assert.match(text, new RegExp(id));
      assert.deepEqual(await rowOf(id), rowBefore);
      assert.equal(await server().lake.objects.head(blobKey(other.process_id, otherStream.stream_id, id)), null);
      assert.deepEqual(await lakeCounts(server()), before);
    });

    test('racing writers of one id with different content: one wins, and the row describes the object that won', { skip: raceSkip }, async () => {
      const id = randomUUID();
      const bodies = [1, 2, 3, 4, 5, 6].map((n) => blockSaying(stream, `writer ${n}`.repeat(n), id, n).body);
      const answers = await Promise.all(bodies.map((b) => post(server(), '/ingestion/insert_block', b)));
      const statuses = answers.map((a) => a.status);
      assert.equal(statuses.filter((s) => s === 200).length, 1, String(statuses));
      assert.equal(statuses.filter((s) => s === 409).length, 5, String(statuses));
      const winner = bodies[statuses.indexOf(200)]!;
      const stored = await server().lake.objects.get(blobKey(stream.process_id, stream.stream_id, id));
      assert.deepEqual(Buffer.from(stored), Buffer.from(winner));
      const [row] = await rowOf(id);
      assert.equal(Number(row!.payload_size), winner.byteLength);
      assert.equal(Number(row!.nb_objects), statuses.indexOf(200) + 1);
    });
  });
}
