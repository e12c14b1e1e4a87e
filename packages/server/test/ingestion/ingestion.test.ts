import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { RunningServer } from '../../src/serve.js';
import { blobKey } from '../../src/lake/object-store.js';
import { pgBackends } from '../support/pg.js';
import { BlockEncoder, encodeBlock, LogLevel, lz4SectionsCodec } from '@sirius/transit';
import { lz4Codec } from '../../src/lake/lz4-codec.js';
import { lakeCounts, makeBlock, makeProcess, makeStream, useIngestionServer } from './fixtures.js';

const MAX_BLOCK = 256 * 1024;

function post(server: RunningServer, path: string, body: unknown, headers: Record<string, string> = {}) {
  const isBytes = body instanceof Uint8Array;
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    body: isBytes ? (body as Uint8Array<ArrayBuffer>) : typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': isBytes ? 'application/octet-stream' : 'application/json', ...headers },
  });
}


for (const backend of pgBackends) {
  describe(`ingestion over HTTP (${backend.name})`, { skip: backend.skip }, () => {
    let server: RunningServer;
    useIngestionServer(backend, 'sirius-ingest-', () => ({ maxBlockBytes: MAX_BLOCK, ingestionKeys: [] }), (s) => (server = s));

    test('a process, a stream and a block land: rows and an object with the bytes sent', async () => {
      const p = makeProcess();
      const s = makeStream(p.process_id);
      const block = makeBlock(s, 50);
      assert.equal((await post(server, '/ingestion/insert_process', p)).status, 200);
      assert.equal((await post(server, '/ingestion/insert_stream', s)).status, 200);
      const r = await post(server, '/ingestion/insert_block', block.body);
      assert.equal(r.status, 200, await r.clone().text());
      assert.deepEqual(await r.json(), { block_id: block.meta.block_id });

      const [proc] = await server.lake.sql.query<Record<string, unknown>>('SELECT * FROM processes WHERE process_id = $1', [p.process_id]);
      assert.equal(proc!.exe, p.exe);
      assert.equal(String(proc!.start_time), p.start_time);
      assert.deepEqual(proc!.properties, p.properties);
      const [stream] = await server.lake.sql.query<Record<string, unknown>>('SELECT * FROM streams WHERE stream_id = $1', [s.stream_id]);
      assert.deepEqual(stream!.tags, ['log']);
      const rows = await server.lake.sql.query<Record<string, unknown>>('SELECT * FROM blocks WHERE block_id = $1', [block.meta.block_id]);
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.stream_id, s.stream_id);
      assert.equal(Number(rows[0]!.nb_objects), 50);
      assert.equal(BigInt(rows[0]!.end_time as string), block.meta.end_time);
      assert.equal(Number(rows[0]!.payload_size), block.body.byteLength);
      const stored = await server.lake.objects.get(blobKey(p.process_id, s.stream_id, block.meta.block_id));
      assert.deepEqual(Buffer.from(stored), Buffer.from(block.body));
    });

    test('retrying a process, a stream and a block stores each once', async () => {
      const p = makeProcess();
      const s = makeStream(p.process_id);
      const block = makeBlock(s, 5);
      const before = await lakeCounts(server);
      for (let i = 0; i < 2; i++) {
        assert.equal((await post(server, '/ingestion/insert_process', p)).status, 200);
        assert.equal((await post(server, '/ingestion/insert_stream', s)).status, 200);
      }
      const answers = await Promise.all([1, 2, 3].map(() => post(server, '/ingestion/insert_block', block.body)));
      assert.deepEqual(answers.map((a) => a.status), [200, 200, 200]);
      assert.equal((await post(server, '/ingestion/insert_block', block.body)).status, 200);
      const now = await lakeCounts(server);
      assert.deepEqual(now, {
        processes: before.processes + 1,
        streams: before.streams + 1,
        blocks: before.blocks + 1,
        objects: before.objects + 1,
      });
    });

    test('concurrent blocks are all committed (batched inserts)', async () => {
      const p = makeProcess();
      const s = makeStream(p.process_id, ['cpu']);
      await post(server, '/ingestion/insert_process', p);
      await post(server, '/ingestion/insert_stream', s);
      const blocks = Array.from({ length: 40 }, () => makeBlock(s, 3));
      const answers = await Promise.all(blocks.map((b) => post(server, '/ingestion/insert_block', b.body)));
      assert.ok(answers.every((a) => a.status === 200));
      const [row] = await server.lake.sql.query<{ n: string }>('SELECT count(*) AS n FROM blocks WHERE stream_id = $1', [s.stream_id]);
      assert.equal(Number(row!.n), 40);
    });

    describe('rejections write nothing', () => {
      let p: ReturnType<typeof makeProcess>;
      let s: ReturnType<typeof makeStream>;
      before(async () => {
        p = makeProcess();
        s = makeStream(p.process_id);
        await post(server, '/ingestion/insert_process', p);
        await post(server, '/ingestion/insert_stream', s);
      });

      async function rejected(path: string, body: unknown, status: number, reason: RegExp) {
        const before = await lakeCounts(server);
        const r = await post(server, path, body);
        assert.equal(r.status, status);
        const json = (await r.json()) as { error: string };
        assert.match(json.error, reason);
        assert.deepEqual(await lakeCounts(server), before);
      }

      test('malformed JSON', () => rejected('/ingestion/insert_process', '{"process_id": ', 400, /JSON/));
      test('a process with a bad field', () =>
        rejected('/ingestion/insert_process', { ...makeProcess(), tsc_frequency: 'fast' }, 400, /tsc_frequency/));
      test('a process with a bad id', () => rejected('/ingestion/insert_process', { ...makeProcess(), process_id: 'x' }, 400, /process_id/));
      test('a stream without tags', () => rejected('/ingestion/insert_stream', { ...makeStream(p.process_id), tags: 'log' }, 400, /tags/));
      test('a stream of an unknown process', () => rejected('/ingestion/insert_stream', makeStream(randomUUID()), 404, /unknown process/));
      test('garbage instead of a block', () => rejected('/ingestion/insert_block', new Uint8Array(300).fill(7), 400, /bad_magic/));
      test('a truncated block', () => {
        const b = makeBlock(s, 20).body;
        return rejected('/ingestion/insert_block', b.subarray(0, b.length - 5), 400, /truncated/);
      });
      test('a block whose payload is corrupt', () => {
        const b = makeBlock(s, 20).body.slice();
        for (let i = 100; i < b.length; i++) b[i] = 0xff;
        return rejected('/ingestion/insert_block', b, 400, /invalid block/);
      });
      test('a block with a log message that is not UTF-8 (as the tracing library sends blocks: codec 2)', () => {
        const enc = new BlockEncoder();
        enc.log(0, LogLevel.info, 'game', 'bad byte here: ?', null);
        const payload = enc.finish();
        payload[payload.lastIndexOf(0x3f)] = 0xff;
        const meta = { ...makeBlock(s, 1).meta, block_id: randomUUID() };
        return rejected('/ingestion/insert_block', encodeBlock(meta, payload, lz4SectionsCodec(lz4Codec)), 400, /not valid UTF-8/);
      });
      test('a block of an unknown stream', () => rejected('/ingestion/insert_block', makeBlock(makeStream(p.process_id)).body, 404, /unknown stream/));
      test('a block claiming another process', () => {
        const other = { ...s, process_id: randomUUID() };
        return rejected('/ingestion/insert_block', makeBlock(other).body, 400, /belongs to process/);
      });
      test('a block over the size limit → 413 (declared length)', async () => {
        const before = await lakeCounts(server);
        const r = await rawPost(server, '/ingestion/insert_block', new Uint8Array(MAX_BLOCK + 1), true);
        assert.equal(r.status, 413);
        assert.match(JSON.parse(r.body).error, /limit/);
        assert.deepEqual(await lakeCounts(server), before);
      });
      test('a block over the size limit → 413 (chunked, no declared length)', async () => {
        const before = await lakeCounts(server);
        const r = await rawPost(server, '/ingestion/insert_block', new Uint8Array(MAX_BLOCK + 1), false);
        assert.equal(r.status, 413);
        assert.deepEqual(await lakeCounts(server), before);
      });
    });

    test('/health answers and /ready reports both backends up', async () => {
      assert.equal((await fetch(`${server.url}/health`)).status, 200);
      const r = await fetch(`${server.url}/ready`);
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { status: 'ready', sql: 'up', object_store: 'up' });
    });
  });
}

/** POST with node:http so the test controls Content-Length vs chunked and survives an early answer. */
function rawPost(server: RunningServer, path: string, body: Uint8Array, declareLength: boolean): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, {
      method: 'POST',
      headers: declareLength ? { 'content-length': String(body.byteLength) } : { 'transfer-encoding': 'chunked' },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    // the server may answer and close before the whole body is sent; the answer is what counts
    req.on('error', () => {});
    for (let i = 0; i < body.byteLength; i += 16 * 1024) req.write(body.subarray(i, i + 16 * 1024));
    req.end();
  });
}
