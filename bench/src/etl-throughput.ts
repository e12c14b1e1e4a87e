/**
 * ETL throughput: raw LZ4 blocks → Parquet for logs and for metrics, on one core, through the same code the
 * lakehouse daemon runs (decode columns → staged columns → staging Parquet → DuckDB COPY to zstd Parquet).
 * Prints events/s for the whole path and for each stage, so it is clear where the time goes, and Parquet
 * bytes per event.
 *
 * Two layouts: one stream whose blocks follow each other (rows arrive in time order, the COPY skips its
 * sort) and two streams whose blocks overlap in time (the COPY sorts). ETL_LEGACY=1 also times the old
 * appender path on the same rows, for comparison.
 *
 * Run alone: node --import tsx bench/src/etl-throughput.ts
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockEncoder, decodeBlockHeader, decodeColumns, decompressBlock, encodeBlock, noCompression, type BlockMeta } from '@sirius/transit';
import { lz4Codec } from '../../packages/server/src/lake/lz4-codec.js';
import { logEntriesRows, logEntriesValues, measuresRows, measuresValues } from '../../packages/server/src/lakehouse/block-rows.js';
import { writeParquet } from '../../packages/server/src/lakehouse/parquet-writer.js';
import { stagingOf } from '../../packages/server/src/lakehouse/staging-batch.js';
import { writeStagingParquet } from '../../packages/server/src/lakehouse/staging-parquet.js';
import type { SourceBlock } from '../../packages/server/src/lakehouse/source-blocks.js';

const BLOCKS = Number(process.env.ETL_BLOCKS ?? 100);
const EVENTS_PER_BLOCK = Number(process.env.ETL_EVENTS_PER_BLOCK ?? 5000);
const LEGACY = process.env.ETL_LEGACY === '1';
const T0 = 1_763_890_000_000_000_000n;
const PROCESS = randomUUID();

type Kind = 'log' | 'metrics';

function sourceBlock(i: number, n: number, stream: string, slot: number): SourceBlock {
  return {
    block_id: randomUUID(), stream_id: stream, process_id: PROCESS, begin_time: T0 + BigInt(slot) * 1_000_000_000n,
    begin_ticks: BigInt(slot) * 1_000_000_000n, end_time: T0 + BigInt(slot + 1) * 1_000_000_000n, end_ticks: BigInt(slot + 1) * 1_000_000_000n,
    nb_objects: n, insert_time: T0 + BigInt(i), exe: '/usr/bin/game', username: 'bench', computer: 'box', tsc_frequency: 1e9,
    start_time: T0, start_ticks: 0n, process_properties: { env: 'bench' },
  };
}

/** `streams` streams, blocks round-robin; with two streams, consecutive blocks cover the same second. */
function makeBlocks(kind: Kind, streams: number): { blocks: SourceBlock[]; bodies: Uint8Array[] } {
  const ids = Array.from({ length: streams }, () => randomUUID());
  const enc = ids.map(() => new BlockEncoder());
  const blocks: SourceBlock[] = [];
  const bodies: Uint8Array[] = [];
  for (let i = 0; i < BLOCKS; i++) {
    const s = i % streams;
    const e = enc[s]!;
    for (let k = 0; k < EVENTS_PER_BLOCK; k++) {
      const ticks = k * 150_000 + s * 1000;
      if (kind === 'log') e.log(ticks, 4, `game::module${k % 8}`, `frame ${i * EVENTS_PER_BLOCK + k} rendered in ${(k * 7) % 17} ms`, k % 16 === 0 ? { scene: 'main' } : null);
      else if (k % 2 === 0) e.floatMetric(ticks, `frame_time_${k % 6}`, 'ms', 'game', (k % 100) / 7);
      else e.intMetric(ticks, `entities_${k % 4}`, 'count', 'game', BigInt(k % 1000));
    }
    const b = sourceBlock(i, EVENTS_PER_BLOCK, ids[s]!, Math.floor(i / streams));
    const meta: BlockMeta = { ...b };
    blocks.push(b);
    bodies.push(encodeBlock(meta, e.finish(), lz4Codec));
  }
  return { blocks, bodies };
}

async function measure(kind: Kind, streams: number, dir: string): Promise<Record<string, number>> {
  const { blocks, bodies } = makeBlocks(kind, streams);
  const events = BLOCKS * EVENTS_PER_BLOCK;
  const label = `${kind}${streams > 1 ? ` (${streams} overlapping streams, sorted by COPY)` : ''}`;
  const rate = (ms: number) => Math.round(events / (ms / 1000));
  const path = join(dir, `${kind}-${streams}.parquet`);

  const t0 = performance.now();
  const decoded = bodies.map((b) => decodeColumns(decompressBlock(decodeBlockHeader(b), [noCompression, lz4Codec])));
  const t1 = performance.now();
  const batch = kind === 'log' ? logEntriesRows(blocks, decoded) : measuresRows(blocks, decoded);
  await writeParquet(batch, path, { orderBy: 'time' });
  const t2 = performance.now();
  const size = (await stat(path)).size;

  // the stages again, one by one (writeParquet above ran them back to back)
  const s0 = performance.now();
  const staged = stagingOf(batch)!();
  const s1 = performance.now();
  const stagingBytes = await writeStagingParquet(join(dir, 'stage.parquet'), staged.length, staged.columns);
  const s2 = performance.now();
  const copyMs = Math.max(1e-3, t2 - t1 - (s2 - s0));

  const out: Record<string, number> = {
    [`${label} events`]: events,
    [`${label} end-to-end events/s`]: rate(t2 - t0),
    [`${label} blocks→parquet (after decode) events/s`]: rate(t2 - t1),
    [`${label} · decode (lz4 + columns) events/s`]: rate(t1 - t0),
    [`${label} · stage columns events/s`]: rate(s1 - s0),
    [`${label} · write staging parquet events/s`]: rate(s2 - s1),
    [`${label} · DuckDB COPY (read staging, cast, zstd) events/s`]: rate(copyMs),
    [`${label} staging bytes/event`]: Number((stagingBytes / events).toFixed(2)),
    [`${label} parquet bytes/event`]: Number((size / events).toFixed(2)),
    [`${label} raw block bytes/event`]: Number((bodies.reduce((a, b) => a + b.length, 0) / events).toFixed(2)),
  };
  if (LEGACY) {
    const l0 = performance.now();
    const rows = kind === 'log' ? logEntriesValues(blocks, decoded) : measuresValues(blocks, decoded);
    await writeParquet(rows, join(dir, 'legacy.parquet'), { orderBy: 'time' });
    out[`${label} legacy appender path (after decode) events/s`] = rate(performance.now() - l0);
  }
  return out;
}

export async function run(): Promise<Record<string, number | string>> {
  const dir = await mkdtemp(join(tmpdir(), 'sirius-etl-bench-'));
  try {
    process.env.SIRIUS_LAKEHOUSE_THREADS ??= '1';
    await measure('log', 1, dir); // warm-up: JIT and DuckDB's first-query costs
    return {
      ...(await measure('log', 1, dir)),
      ...(await measure('metrics', 1, dir)),
      ...(await measure('log', 2, dir)),
      ...(await measure('metrics', 2, dir)),
      target: '≥ 5 M events/s per core',
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await run());
}
