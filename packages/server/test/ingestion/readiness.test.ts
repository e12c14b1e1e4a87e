import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RunningServer } from '../../src/serve.js';
import { pgBackends } from '../support/pg.js';
import { makeBlock, makeProcess, makeStream, useIngestionServer } from './fixtures.js';

for (const backend of pgBackends) {
  describe(`/health and /ready (${backend.name})`, { skip: backend.skip }, () => {
    let server: RunningServer;
    let dir: string;
    useIngestionServer(backend, 'sirius-ready-', (d) => ({ objectStoreUri: pathToFileURL(join(d, 'objects')).href }), (s, d) => ((server = s), (dir = d)));

    const ready = async () => {
      const r = await fetch(`${server.url}/ready`);
      return { status: r.status, body: (await r.json()) as Record<string, string> };
    };

    test('ready when both backends answer', async () => {
      assert.deepEqual(await ready(), { status: 200, body: { status: 'ready', sql: 'up', object_store: 'up' } });
    });

    test('503 naming the object store when it cannot be written', async () => {
      // the store's root becomes a plain file: no object can be written under it
      await rm(join(dir, 'objects'), { recursive: true, force: true });
      await writeFile(join(dir, 'objects'), 'not a folder');
      assert.deepEqual(await ready(), { status: 503, body: { status: 'not ready', sql: 'up', object_store: 'down' } });
      await rm(join(dir, 'objects'));
      assert.equal((await ready()).status, 200);
    });

    test('a block whose object cannot be written answers 503 + Retry-After and leaves no row', async () => {
      const post = (path: string, body: Uint8Array | object) =>
        fetch(`${server.url}/ingestion/${path}`, {
          method: 'POST',
          body: body instanceof Uint8Array ? (body as Uint8Array<ArrayBuffer>) : JSON.stringify(body),
        });
      const p = makeProcess();
      const s = makeStream(p.process_id);
      assert.equal((await post('insert_process', p)).status, 200);
      assert.equal((await post('insert_stream', s)).status, 200);
      await rm(join(dir, 'objects'), { recursive: true, force: true });
      await writeFile(join(dir, 'objects'), 'not a folder');
      const block = makeBlock(s);
      const r = await post('insert_block', block.body);
      assert.equal(r.status, 503);
      assert.ok(r.headers.get('retry-after'));
      assert.deepEqual(await r.json(), { error: 'the object store is unavailable; retry later' });
      const rows = await server.lake.sql.query('SELECT 1 FROM blocks WHERE block_id = $1', [block.meta.block_id]);
      assert.equal(rows.length, 0);
      // once storage is back, the client's retry succeeds
      await rm(join(dir, 'objects'));
      assert.equal((await post('insert_block', block.body)).status, 200);
    });

    test('503 naming SQL once the SQL client is closed; /health still answers', async () => {
      await server.lake.sql.close();
      assert.deepEqual(await ready(), { status: 503, body: { status: 'not ready', sql: 'down', object_store: 'up' } });
      assert.equal((await fetch(`${server.url}/health`)).status, 200);
    });
  });
}
