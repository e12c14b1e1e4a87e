/**
 * One second of a 60 fps game's CPU trace as one transit block payload, at `spansPerSecond` (the trace-range and
 * perfetto-export suites use 50,000): per frame a `frame` span, 8 systems, and short leaves under each. Event times
 * are relative to the block, so the same payload serves any second of a synthetic stream.
 */
import { randomUUID } from 'node:crypto';
import { BlockEncoder, encodeBlock, type BlockMeta } from '@sirius/transit';
import { insertBlocks, type BlockRecord } from '../../packages/server/src/lake/block-repository.js';
import type { Lake } from '../../packages/server/src/lake/lake.js';
import { lz4Codec } from '../../packages/server/src/lake/lz4-codec.js';
import { blobKey } from '../../packages/server/src/lake/object-store.js';
import { insertProcess } from '../../packages/server/src/lake/process-repository.js';
import { insertStream } from '../../packages/server/src/lake/stream-repository.js';

/** when the synthetic streams start (ns since the epoch); one tick per ns */
export const GAME_T0 = 1_764_000_000_000_000_000n;
const SEC = 1_000_000_000n;

export function secondOfFrames(spansPerSecond: number): { payload: Uint8Array; events: number } {
  const enc = new BlockEncoder();
  let events = 0;
  const frames = 60;
  const leaves = Math.round((spansPerSecond / frames - 9) / 8);
  for (let f = 0; f < frames; f++) {
    const t0 = Math.floor((f * 1e9) / frames);
    enc.beginThreadSpan(t0, 'frame', 'game', 'loop.ts', 1);
    let t = t0 + 1000;
    for (let s = 0; s < 8; s++) {
      enc.beginThreadSpan(t, `system ${s}`, 'game', 'systems.ts', 10 + s);
      for (let l = 0; l < leaves; l++) {
        const leaf = l % 2 ? 'move' : 'collide';
        enc.beginThreadSpan(t + 1, leaf, 'game', 'entity.ts', 40 + (l % 2));
        enc.endThreadSpan(t + 15, leaf, 'game', 'entity.ts', 40 + (l % 2));
        t += 16;
      }
      enc.endThreadSpan(t + 5, `system ${s}`, 'game', 'systems.ts', 10 + s);
      t += 10;
      events += 2 + leaves * 2;
    }
    enc.endThreadSpan(t + 100, 'frame', 'game', 'loop.ts', 1);
    events += 2;
  }
  return { payload: enc.finish(), events };
}

/**
 * A process with one `cpu` stream of `seconds` one-second blocks, each the same `secondOfFrames` payload, from
 * GAME_T0: real metadata (a block row per second), and a payload object only for the seconds `withPayload`
 * accepts (all by default), so a long stream costs rows, not gigabytes.
 */
export async function writeGameStream(
  lake: Lake,
  seconds: number,
  spansPerSecond: number,
  withPayload: (begin: bigint, end: bigint) => boolean = () => true,
): Promise<{ processId: string; streamId: string; events: number; objects: number }> {
  const processId = randomUUID();
  const streamId = randomUUID();
  await insertProcess(lake.sql, {
    process_id: processId, exe: 'bench-game', username: 'bench', realname: 'bench', computer: 'bench', distro: 'debian',
    cpu_brand: 'bench', tsc_frequency: 1e9, start_time: String(GAME_T0), start_ticks: '0', parent_process_id: null, properties: {},
  });
  await insertStream(lake.sql, { stream_id: streamId, process_id: processId, tags: ['cpu'], properties: { thread_name: 'main' } });
  const { payload, events } = secondOfFrames(spansPerSecond);
  let objects = 0;
  let batch: BlockRecord[] = [];
  for (let s = 0; s < seconds; s++) {
    const meta: BlockMeta = {
      block_id: randomUUID(), stream_id: streamId, process_id: processId,
      begin_time: GAME_T0 + BigInt(s) * SEC, begin_ticks: BigInt(s) * SEC, end_time: GAME_T0 + BigInt(s + 1) * SEC, end_ticks: BigInt(s + 1) * SEC,
      nb_objects: events,
    };
    let size = 0;
    if (withPayload(meta.begin_time, meta.end_time)) {
      const body = encodeBlock(meta, payload, lz4Codec);
      await lake.objects.put(blobKey(processId, streamId, meta.block_id), body);
      size = body.byteLength;
      objects++;
    }
    batch.push({ ...meta, object_offset: 0n, payload_size: size });
    if (batch.length === 2000) (await insertBlocks(lake.sql, batch), (batch = []));
  }
  await insertBlocks(lake.sql, batch);
  return { processId, streamId, events, objects };
}
