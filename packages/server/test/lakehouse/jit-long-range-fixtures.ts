/** Blocks of a cpu stream for the long-range just-in-time tests and their benchmark. */
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { BlockEncoder, encodeBlock, type BlockMeta, type StreamInfo } from '@sirius/transit';
import { lz4Codec } from '../../src/lake/lz4-codec.js';
import { T0 } from './lake-fixtures.js';

export const FRAMES = 10;

/** Block `index` of a cpu stream (clock: 2 ticks/ns): FRAMES frames, each with a nested update (2 spans a frame). */
export function cpuBlock(stream: StreamInfo, index: number, at = T0): { body: Uint8Array; meta: BlockMeta } {
  const enc = new BlockEncoder();
  for (let i = 0; i < FRAMES; i++) {
    enc.beginThreadSpan(i * 1000, 'frame', 'game', 'loop.ts', 1);
    enc.beginThreadSpan(i * 1000 + 100, 'update', 'game', 'loop.ts', 2);
    enc.endThreadSpan(i * 1000 + 300, 'update', 'game', 'loop.ts', 2);
    enc.endThreadSpan(i * 1000 + 900, 'frame', 'game', 'loop.ts', 1);
  }
  const ticks = BigInt(index) * 100_000n;
  const meta: BlockMeta = {
    block_id: randomUUID(), stream_id: stream.stream_id, process_id: stream.process_id,
    begin_time: at + ticks / 2n, begin_ticks: ticks, end_time: at + (ticks + 10_000n) / 2n, end_ticks: ticks + 10_000n,
    nb_objects: FRAMES * 4,
  };
  return { body: encodeBlock(meta, enc.finish(), lz4Codec), meta };
}

/**
 * Watches the event loop until `stop()`, which returns the longest stall in ms. Two measures: the delay
 * histogram samples only when its own timer runs, so a loop starved until the end would show no long
 * delay; the gap between ticks of a 5 ms timer catches that case.
 */
export function eventLoopStallProbe(): { stop(): Promise<number> } {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  let last = performance.now();
  let gap = 0;
  const probe = setInterval(() => {
    const now = performance.now();
    gap = Math.max(gap, now - last);
    last = now;
  }, 5);
  return {
    async stop() {
      // one more tick, so a stall that lasted until now is measured
      await new Promise((r) => setTimeout(r, 20));
      clearInterval(probe);
      h.disable();
      return Math.max(gap, h.max / 1e6);
    },
  };
}
