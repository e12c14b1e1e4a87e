/**
 * Measures what the lakehouse daemon allocates for blocks that ingestion accepts: `blocks` blocks of `events` log
 * events, each event's one property being the same `stringBytes`-byte string as key and value (two bytes of ids
 * on the wire, two copies of the string in the property column). Ingests them over HTTP into a real server, runs
 * one materialization step of `log_entries` and prints the envelope sizes, the HTTP answers, the RSS and heap
 * growth of the step, and what the daemon logged. Run under /usr/bin/time -v for the peak RSS:
 *
 *   /usr/bin/time -v node --expose-gc --import tsx packages/server/test/lakehouse/expansion-measure.ts 3 100 1000000 [props|target] [direct]
 */
import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { BlockEncoder, encodeBlock, lz4SectionsCodec, type BlockMeta } from '@sirius/transit';
import { insertBlocks } from '../../src/lake/block-repository.js';
import { lz4Codec } from '../../src/lake/lz4-codec.js';
import { blobKey } from '../../src/lake/object-store.js';
import { materializeBlockView } from '../../src/lakehouse/block-view-materializer.js';
import { logEntriesView } from '../../src/lakehouse/view-definitions.js';
import { pgBackends } from '../support/pg.js';
import { makeProcess, makeStream, startTestLake, T0 } from './lake-fixtures.js';

const [blocks = 3, events = 100, stringBytes = 1_000_000] = process.argv.slice(2, 5).map(Number);
// 'props' (default): the string as a property's key and value; 'target': as every event's target
const mode = process.argv[5] ?? 'props';
// 'direct': object and row written straight into the lake, as a block stored before ingestion checked this would be
const direct = process.argv[6] === 'direct';
const big = 'a'.repeat(stringBytes);
const lake = await startTestLake(pgBackends[0]!);
try {
  const url = lake.server.url;
  const post = async (path: string, body: Uint8Array | object) => {
    const r = await fetch(`${url}/ingestion/${path}`, { method: 'POST', body: body instanceof Uint8Array ? Buffer.from(body) : JSON.stringify(body) });
    return `${r.status} ${await r.text()}`;
  };
  const p = makeProcess({ tsc_frequency: 1e9 });
  const s = makeStream(p.process_id, ['log']);
  console.log('process', await post('insert_process', p), 'stream', await post('insert_stream', s));
  for (let b = 0; b < blocks; b++) {
    const enc = new BlockEncoder();
    for (let i = 0; i < events; i++) {
      if (mode === 'target') enc.log(i, 4, big, '');
      else enc.log(i, 4, 'attack', '', { [big]: big });
    }
    const meta: BlockMeta = { block_id: randomUUID(), stream_id: s.stream_id, process_id: p.process_id, begin_time: T0, begin_ticks: 0n, end_time: T0 + BigInt(events), end_ticks: BigInt(events), nb_objects: events };
    const envelope = encodeBlock(meta, enc.finish(), lz4SectionsCodec(lz4Codec));
    if (direct) {
      await lake.server.lake.objects.put(blobKey(p.process_id, s.stream_id, meta.block_id), envelope);
      await insertBlocks(lake.server.lake.sql, [{ ...meta, object_offset: 0n, payload_size: envelope.byteLength }]);
      console.log(`block ${b}: ${envelope.byteLength} bytes, stored directly`);
    } else console.log(`block ${b}: ${envelope.byteLength} bytes →`, await post('insert_block', envelope));
  }
  const sql = lake.server.lake.sql;
  const [row] = await sql.query<{ n: string; bytes: string }>('SELECT count(*) AS n, coalesce(sum(payload_size), 0) AS bytes FROM blocks');
  console.log(`blocks stored: ${row!.n}, ${row!.bytes} bytes`);
  global.gc?.();
  const before = process.memoryUsage();
  // the step's work is synchronous for long stretches: a thread of its own samples the process's RSS meanwhile
  const shared = new Float64Array(new SharedArrayBuffer(16));
  const sampler = new Worker(
    `const { workerData: s } = require('node:worker_threads'); const a = new Float64Array(s);
     setInterval(() => { a[0] = Math.max(a[0], process.memoryUsage.rss()); if (a[1] === 1) process.exit(0); }, 5);`,
    { eval: true, workerData: shared.buffer },
  );
  const t = Date.now();
  const result = await materializeBlockView(lake.server.lake, logEntriesView, { dataDir: lake.dir, lagNs: 0n, now: T0 * 2n });
  const after = process.memoryUsage();
  shared[1] = 1;
  await new Promise((r) => sampler.once('exit', r));
  const mb = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
  console.log(`step: ${result} in ${Date.now() - t} ms; rss before ${mb(before.rss)}, peak during the step ${mb(shared[0]!)} (+${mb(shared[0]! - before.rss)}), heap ${mb(before.heapUsed)} → ${mb(after.heapUsed)}, external ${mb(before.external + before.arrayBuffers)} → ${mb(after.external + after.arrayBuffers)}`);
  const parts = await sql.query<{ num_rows: string; file_size: string }>('SELECT num_rows, file_size FROM lakehouse_partitions');
  console.log('partitions', parts);
} finally {
  await lake.close();
}
