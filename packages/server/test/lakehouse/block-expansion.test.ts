/**
 * Blocks whose property maps spell out far more text than the block holds (finding 8: three valid 181 KB blocks
 * took the daemon to 6 GB): a 4 KB block of 100 log events whose one property names the same 1 MB string as key
 * and value is 200 MB of JSON once the lakehouse builds its rows. Ingestion refuses such a block over real HTTP;
 * one stored anyway (before the check, or written straight into the lake) is skipped by the daemon with a logged
 * error while the blocks beside it are materialized, and the step allocates nothing for it. The size measured
 * is the JSON the staging code builds, byte for byte.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { BlockEncoder, decodeColumns, encodeBlock, lz4SectionsCodec, TransitError, type BlockMeta, type Properties, type StreamInfo } from '@sirius/transit';
import { checkExpansion, expansionLimit, PropertyText } from '../../src/lake/block-expansion.js';
import { insertBlocks } from '../../src/lake/block-repository.js';
import { lz4Codec } from '../../src/lake/lz4-codec.js';
import { blobKey } from '../../src/lake/object-store.js';
import { materializeBlockView } from '../../src/lakehouse/block-view-materializer.js';
import { decodeStoredBlock } from '../../src/lakehouse/source-blocks.js';
import { logEntriesView } from '../../src/lakehouse/view-definitions.js';
import { pgBackends } from '../support/pg.js';
import { logBlock, makeProcess, makeStream, startTestLake, T0 } from './lake-fixtures.js';

const post = (url: string, path: string, body: Uint8Array | object) =>
  fetch(`${url}/ingestion/${path}`, { method: 'POST', body: body instanceof Uint8Array ? Buffer.from(body) : JSON.stringify(body) });

/** `events` log events, each with the properties `props(i)` */
function propsBlock(stream: StreamInfo, events: number, props: (i: number) => Properties): { body: Uint8Array; meta: BlockMeta } {
  const enc = new BlockEncoder();
  for (let i = 0; i < events; i++) enc.log(i, 4, 'expansion', '', props(i));
  const meta: BlockMeta = {
    block_id: randomUUID(), stream_id: stream.stream_id, process_id: stream.process_id,
    begin_time: T0, begin_ticks: 0n, end_time: T0 + BigInt(events), end_ticks: BigInt(events), nb_objects: events,
  };
  return { body: encodeBlock(meta, enc.finish(), lz4SectionsCodec(lz4Codec)), meta };
}

const big = 'a'.repeat(1_000_000);
const attack = (stream: StreamInfo) => propsBlock(stream, 100, () => ({ [big]: big }));

describe('property text a block may expand to', () => {
  test('measured as the JSON the staging code writes: escapes, non-ASCII, several pairs', () => {
    const maps: Properties[] = [{ k: 'v' }, { 'a"b': 'c\\d', é: '日本\u0001' }, { x: '1', y: '2', z: '' }, {}];
    const enc = new BlockEncoder();
    maps.forEach((m, i) => enc.log(i, 4, 't', 'm', m));
    const cols = decodeColumns(enc.finish());
    const text = new PropertyText(cols.tables);
    text.addColumns(cols.logs, cols.logs.count);
    assert.equal(text.bytes, maps.filter((m) => Object.keys(m).length).reduce((n, m) => n + Buffer.byteLength(JSON.stringify(m)), 0));
  });

  test('the limit: 256 bytes of text per stored byte plus 64 KiB', () => {
    assert.equal(expansionLimit(4096), 256 * 4096 + 65536);
    checkExpansion(expansionLimit(4096), 4096);
    assert.throws(() => checkExpansion(expansionLimit(4096) + 1, 4096), (e) => e instanceof TransitError && e.code === 'limit_exceeded');
  });

  test('the attack block: 4 KB that would be 200 MB of JSON is refused by decoding, before any row is built', () => {
    const { body } = attack(makeStream(randomUUID(), ['log']));
    assert.ok(body.byteLength < 5000, `${body.byteLength} bytes`);
    assert.throws(() => decodeStoredBlock(body), /property maps of 200000700 bytes as text, more than the \d+ a block of \d+ bytes may expand to/);
  });
});

for (const backend of pgBackends) {
  describe(`blocks that expand beyond their size (${backend.name})`, { skip: backend.skip }, () => {
    test('ingestion refuses them (400) and stores nothing; the same events with short properties are accepted', async () => {
      const t = await startTestLake(backend);
      try {
        const p = makeProcess();
        const s = makeStream(p.process_id, ['log']);
        assert.equal((await post(t.server.url, 'insert_process', p)).status, 200);
        assert.equal((await post(t.server.url, 'insert_stream', s)).status, 200);
        const refused = await post(t.server.url, 'insert_block', attack(s).body);
        assert.equal(refused.status, 400);
        assert.match(((await refused.json()) as { error: string }).error, /invalid block \(limit_exceeded\): property maps of 200000700 bytes/);
        assert.equal((await post(t.server.url, 'insert_block', propsBlock(s, 100, (i) => ({ key: `value ${i}` })).body)).status, 200);
        const [row] = await t.server.lake.sql.query<{ n: string }>('SELECT count(*) AS n FROM blocks');
        assert.equal(Number(row!.n), 1);
        let objects = 0;
        for await (const _ of t.server.lake.objects.list('blobs/')) objects++;
        assert.equal(objects, 1);
      } finally {
        await t.close();
      }
    });

    test('the daemon skips such blocks already stored, materializes the others, and does not allocate for them', async () => {
      const t = await startTestLake(backend);
      try {
        const lake = t.server.lake;
        const p = makeProcess({ tsc_frequency: 2e9 });
        const s = makeStream(p.process_id, ['log']);
        assert.equal((await post(t.server.url, 'insert_process', p)).status, 200);
        assert.equal((await post(t.server.url, 'insert_stream', s)).status, 200);
        // three attack blocks written straight into the lake, as ingestion before this check stored them
        for (let i = 0; i < 3; i++) {
          const { body, meta } = attack(s);
          await lake.objects.put(blobKey(p.process_id, s.stream_id, meta.block_id), body);
          await insertBlocks(lake.sql, [{ ...meta, object_offset: 0n, payload_size: body.byteLength }]);
        }
        const good = logBlock(s, 0, 50);
        assert.equal((await post(t.server.url, 'insert_block', good.body)).status, 200);
        const before = process.memoryUsage().arrayBuffers;
        // before the check this step built 600 MB of JSON (1 GB more RSS at its peak, 2 GB of buffers after it)
        assert.equal(await materializeBlockView(lake, logEntriesView, { dataDir: t.dir, lagNs: 0n, now: T0 * 2n }), 'progress');
        const grown = process.memoryUsage().arrayBuffers - before;
        assert.ok(grown < 128 * 1024 * 1024, `array buffers grew by ${grown} bytes`);
        const parts = await lake.sql.query<{ num_rows: string }>(`SELECT num_rows FROM lakehouse_partitions WHERE view_set = 'log_entries'`);
        assert.deepEqual(parts.map((r) => Number(r.num_rows)), [good.rows.length]);
      } finally {
        await t.close();
      }
    });
  });
}
