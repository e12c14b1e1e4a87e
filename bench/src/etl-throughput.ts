/**
 * ETL throughput: raw LZ4 blocks → Parquet for logs and for metrics, on one core, through the same code the
 * lakehouse daemon runs (decode columns → row batch → DuckDB appender → COPY to zstd Parquet). Prints events/s
 * for the whole path and for each phase, so it is clear where the time goes, and Parquet bytes per event.
 *
 * Run alone: node --import tsx bench/src/etl-throughput.ts
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockEncoder, decodeBlockHeader, decodeColumns, decompressBlock, encodeBlock, noCompression, type BlockMeta } from '@sirius/transit';
import { lz4Codec } from '../../packages/server/src/lake/lz4-codec.js';
import { logEntriesRows, measuresRows } from '../../packages/server/src/lakehouse/block-rows.js';
import { writeParquet } from '../../packages/server/src/lakehouse/parquet-writer.js';
import type { SourceBlock } from '../../packages/server/src/lakehouse/source-blocks.js';

const BLOCKS = Number(process.env.ETL_BLOCKS ?? 100);
const EVENTS_PER_BLOCK = Number(process.env.ETL_EVENTS_PER_BLOCK ?? 5000);
const T0 = 1_763_890_000_000_000_000n;
const STREAM = randomUUID();
const PROCESS = randomUUID();

function sourceBlock(i: number, n: number): SourceBlock {
  return {
    block_id: randomUUID(), stream_id: STREAM, process_id: PROCESS, begin_time: T0 + BigInt(i) * 1_000_000_000n,
    begin_ticks: BigInt(i) * 1_000_000_000n, end_time: T0 + BigInt(i + 1) * 1_000_000_000n, end_ticks: BigInt(i + 1) * 1_000_000_000n,
    nb_objects: n, insert_time: T0, exe: '/usr/bin/game', username: 'bench', computer: 'box', tsc_frequency: 1e9,
    start_time: T0, start_ticks: 0n, process_properties: { env: 'bench' },
  };
}

function makeBlocks(kind: 'log' | 'metrics'): { blocks: SourceBlock[]; bodies: Uint8Array[] } {
  const enc = new BlockEncoder();
  const blocks: SourceBlock[] = [];
  const bodies: Uint8Array[] = [];
  for (let i = 0; i < BLOCKS; i++) {
    for (let k = 0; k < EVENTS_PER_BLOCK; k++) {
      const ticks = k * 150_000;
      if (kind === 'log') enc.log(ticks, 4, `game::module${k % 8}`, `frame ${i * EVENTS_PER_BLOCK + k} rendered in ${(k * 7) % 17} ms`, k % 16 === 0 ? { scene: 'main' } : null);
      else if (k % 2 === 0) enc.floatMetric(ticks, `frame_time_${k % 6}`, 'ms', 'game', (k % 100) / 7);
      else enc.intMetric(ticks, `entities_${k % 4}`, 'count', 'game', BigInt(k % 1000));
    }
    const b = sourceBlock(i, EVENTS_PER_BLOCK);
    const meta: BlockMeta = { ...b };
    blocks.push(b);
    bodies.push(encodeBlock(meta, enc.finish(), lz4Codec));
  }
  return { blocks, bodies };
}

async function measure(kind: 'log' | 'metrics', dir: string) {
  const { blocks, bodies } = makeBlocks(kind);
  const events = BLOCKS * EVENTS_PER_BLOCK;
  const t0 = performance.now();
  const decoded = bodies.map((b) => decodeColumns(decompressBlock(decodeBlockHeader(b), [noCompression, lz4Codec])));
  const t1 = performance.now();
  const batch = kind === 'log' ? logEntriesRows(blocks, decoded) : measuresRows(blocks, decoded);
  const t2 = performance.now();
  const path = join(dir, `${kind}.parquet`);
  await writeParquet(batch, path, { orderBy: 'time' });
  const t3 = performance.now();
  const size = (await stat(path)).size;
  const rate = (ms: number) => Math.round(events / (ms / 1000));
  return {
    [`${kind} events`]: events,
    [`${kind} end-to-end events/s`]: rate(t3 - t0),
    [`${kind} decode (lz4 + columns) events/s`]: rate(t1 - t0),
    [`${kind} rows (columns → row batch) events/s`]: rate(t2 - t1),
    [`${kind} parquet (appender + COPY) events/s`]: rate(t3 - t2),
    [`${kind} parquet bytes/event`]: Number((size / events).toFixed(2)),
    [`${kind} raw block bytes/event`]: Number((bodies.reduce((a, b) => a + b.length, 0) / events).toFixed(2)),
  };
}

export async function run(): Promise<Record<string, number | string>> {
  const dir = await mkdtemp(join(tmpdir(), 'sirius-etl-bench-'));
  try {
    process.env.SIRIUS_LAKEHOUSE_THREADS ??= '1';
    return { ...(await measure('log', dir)), ...(await measure('metrics', dir)), target: '≥ 5 M events/s per core' };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await run());
}
