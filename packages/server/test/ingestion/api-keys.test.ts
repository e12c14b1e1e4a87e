import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningServer } from '../../src/serve.js';
import { keyMatches, hashKeys, parseKeyList } from '../../src/ingestion/api-keys.js';
import { pgBackends } from '../support/pg.js';
import { makeBlock, makeProcess, makeStream, useIngestionServer } from './fixtures.js';

test('key lists and matching', () => {
  assert.deepEqual(parseKeyList(' a, b ,,c '), ['a', 'b', 'c']);
  assert.deepEqual(parseKeyList(undefined), []);
  const hashes = hashKeys(['k1', 'k2']);
  assert.equal(keyMatches('k2', hashes), true);
  assert.equal(keyMatches('k3', hashes), false);
  assert.equal(keyMatches('', hashes), false);
});

for (const backend of pgBackends) {
  describe(`ingestion API keys (${backend.name})`, { skip: backend.skip }, () => {
    let server: RunningServer;
    useIngestionServer(backend, 'sirius-keys-', () => ({ objectStoreUri: 'memory://', ingestionKeys: ['first-key', 'second-key'] }), (s) => (server = s));

    const send = (path: string, body: Uint8Array | object, auth?: string) =>
      fetch(`${server.url}/ingestion/${path}`, {
        method: 'POST',
        body: body instanceof Uint8Array ? (body as Uint8Array<ArrayBuffer>) : JSON.stringify(body),
        headers: auth === undefined ? {} : { authorization: auth },
      });

    test('every route answers 401 without a key or with a wrong one, and writes nothing', async () => {
      const p = makeProcess();
      const s = makeStream(p.process_id);
      for (const auth of [undefined, 'Bearer wrong-key', 'first-key', 'Basic Zmlyc3Qta2V5']) {
        for (const [path, body] of [['insert_process', p], ['insert_stream', s], ['insert_block', makeBlock(s).body]] as const) {
          const r = await send(path, body, auth);
          assert.equal(r.status, 401, `${path} with ${auth}`);
          assert.match(((await r.json()) as { error: string }).error, /API key/);
        }
      }
      const [row] = await server.lake.sql.query<{ n: string }>('SELECT count(*) AS n FROM processes');
      assert.equal(Number(row!.n), 0);
    });

    test('the right key is accepted on every route', async () => {
      const p = makeProcess();
      const s = makeStream(p.process_id);
      assert.equal((await send('insert_process', p, 'Bearer first-key')).status, 200);
      assert.equal((await send('insert_stream', s, 'Bearer second-key')).status, 200);
      assert.equal((await send('insert_block', makeBlock(s).body, 'bearer first-key')).status, 200);
    });

    test('/health and /ready need no key', async () => {
      assert.equal((await fetch(`${server.url}/health`)).status, 200);
      assert.equal((await fetch(`${server.url}/ready`)).status, 200);
    });
  });
}
