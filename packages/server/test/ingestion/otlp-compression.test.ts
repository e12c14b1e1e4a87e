/**
 * Compressed OTLP/HTTP bodies over real HTTP: gzip and deflate (zlib-wrapped and bare) are inflated on every
 * OTLP route; an inflated body past the body limit (a gzip "bomb" of 1 GiB of zeros) answers 413 with the
 * reason, stores nothing and never holds more than the limit; an unknown encoding answers 415, a corrupt
 * stream 400; and the server keeps answering after each.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createGzip, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import type { RunningServer } from '../../src/serve.js';
import { pgBackends } from '../support/pg.js';
import { lakeCounts, useIngestionServer } from './fixtures.js';

const T = 1_763_890_000_123_456_789n;
const logs = (service: string, n = 3) => ({
  resourceLogs: [{
    resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
    scopeLogs: [{ scope: { name: 's' }, logRecords: Array.from({ length: n }, (_, i) => ({ timeUnixNano: String(T + BigInt(i)), body: { stringValue: `m${i}` } })) }],
  }],
});

/** 1 GiB of zeros, gzipped as it is produced: about a megabyte; made once for every backend */
let bomb: Promise<Buffer> | undefined;
const gzipBomb = (bytes: number) => (bomb ??= makeGzipBomb(bytes));

async function makeGzipBomb(bytes: number): Promise<Buffer> {
  const z = createGzip({ level: 9 });
  const out: Buffer[] = [];
  z.on('data', (c: Buffer) => out.push(c));
  const done = new Promise((resolve) => z.on('end', resolve));
  const zeros = Buffer.alloc(1 << 20);
  for (let left = bytes; left > 0; left -= zeros.length) {
    if (!z.write(zeros)) await new Promise((resolve) => z.once('drain', resolve));
  }
  z.end();
  await done;
  return Buffer.concat(out);
}

for (const backend of pgBackends) {
  describe(`OTLP/HTTP compressed bodies (${backend.name})`, { skip: backend.skip }, () => {
    let server: RunningServer;
    useIngestionServer(backend, 'sirius-otlp-gzip-', () => ({}), (s) => (server = s));

    const post = (path: string, body: Uint8Array | string, encoding?: string) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(encoding ? { 'content-encoding': encoding } : {}) },
        body: typeof body === 'string' ? body : Buffer.from(body),
      });
    const logCount = async (service: string) =>
      Number((await server.lake.sql.query<{ n: string }>(
        `SELECT coalesce(sum(b.nb_objects), 0) AS n FROM blocks b JOIN processes p USING (process_id) WHERE p.exe = $1`, [service]))[0]!.n);

    test('gzip, x-gzip, deflate (zlib and bare) and identity are all read, on /v1 and /ingestion/otlp/v1', async () => {
      const cases: [string, string | undefined, (b: Buffer) => Uint8Array][] = [
        ['gz', 'gzip', gzipSync], ['xgz', 'x-gzip', gzipSync], ['zlib', 'deflate', deflateSync], ['raw', 'deflate', deflateRawSync],
        ['id', 'identity', (b) => b], ['none', undefined, (b) => b], ['GZ', 'GZIP', gzipSync],
      ];
      for (const path of ['/v1/logs', '/ingestion/otlp/v1/logs']) {
        for (const [name, encoding, compress] of cases) {
          const service = `${name}${path.length}`;
          const r = await post(path, compress(Buffer.from(JSON.stringify(logs(service, 4)))), encoding);
          assert.equal(r.status, 200, `${path} ${encoding}: ${await r.text()}`);
          assert.equal(await logCount(service), 4, `${path} ${encoding}: the four records`);
        }
      }
    });

    test('a gzip bomb (1 GiB of zeros) answers 413, stores nothing, holds at most the limit', async () => {
      const bomb = await gzipBomb(1 << 30);
      assert.ok(bomb.length < 16 << 20, `the bomb itself (${bomb.length} bytes) fits the body limit`);
      const before = await lakeCounts(server);
      let peak = 0;
      const base = process.memoryUsage().arrayBuffers;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers - base)), 5);
      try {
        for (const path of ['/v1/logs', '/ingestion/otlp/v1/traces']) {
          const r = await post(path, bomb, 'gzip');
          assert.equal(r.status, 413);
          assert.match(((await r.json()) as { error: string }).error, /inflates \(gzip\) to more than the limit of 16777216 bytes/);
        }
      } finally {
        clearInterval(sampler);
      }
      // the inflated bytes kept are bounded by the 16 MiB limit; 1 GiB would show as 1 GiB
      assert.ok(peak < 160 << 20, `buffer memory grew by ${peak >> 20} MiB while refusing the bombs`);
      assert.deepEqual(await lakeCounts(server), before, 'nothing stored');
      assert.equal((await post('/v1/logs', gzipSync(JSON.stringify(logs('after-bomb'))), 'gzip')).status, 200, 'still serving');
    });

    test('unknown or stacked encodings answer 415, corrupt or truncated data 400; nothing stored', async () => {
      const before = await lakeCounts(server);
      const body = JSON.stringify(logs('refused'));
      for (const encoding of ['br', 'zstd', 'compress', 'gzip, gzip', 'gzip, br']) {
        const r = await post('/v1/logs', gzipSync(body), encoding);
        assert.equal(r.status, 415, encoding);
        assert.match(((await r.json()) as { error: string }).error, /Content-Encoding .* is not supported: send gzip, deflate or none/);
      }
      const gz = gzipSync(body);
      for (const [what, bytes, encoding] of [
        ['not gzip', Buffer.from(body), 'gzip'], ['truncated gzip', gz.subarray(0, gz.length - 9), 'gzip'], ['not deflate', Buffer.from('\xff\xff\xff\xff', 'latin1'), 'deflate'],
      ] as const) {
        const r = await post('/ingestion/otlp/v1/logs', bytes, encoding);
        assert.equal(r.status, 400, what);
        assert.match(((await r.json()) as { error: string }).error, new RegExp(`body is not valid ${encoding} data`), what);
      }
      assert.deepEqual(await lakeCounts(server), before);
    });
  });
}
