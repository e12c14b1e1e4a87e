/**
 * Builders for decoded span blocks in tests: events are scripted with absolute ticks and cut into
 * blocks at given tick boundaries, the way a tracing client flushes them.
 */
import type { BlockMeta, TransitEvent } from '@sirius/transit';
import type { DecodedBlock } from '../../src/lakehouse/span-blocks.js';
import type { RowBatch } from '../../src/lakehouse/row-batch.js';

/** [kind, absolute tick, name, line?] — 'b' begins, 'e' ends a thread span */
export type ScriptEvent = ['b' | 'e', number, string, number?];

export interface ScriptOptions {
  stream_id?: string;
  /** ticks per second */
  freq: number;
  /** time of tick 0, ns since epoch */
  t0: bigint;
  /** tick boundaries between blocks (exclusive of 0 and the end) */
  cuts?: number[];
  /** end tick of the last block (default: last event tick + 1) */
  endTick?: number;
}

export function timeOf(tick: number, o: ScriptOptions): bigint {
  return o.t0 + BigInt(Math.round((tick * 1e9) / o.freq));
}

export function threadBlocks(script: ScriptEvent[], o: ScriptOptions): DecodedBlock[] {
  const stream = o.stream_id ?? 'stream-1';
  const last = script.length > 0 ? script[script.length - 1]![1] : 0;
  const bounds = [0, ...(o.cuts ?? []), o.endTick ?? last + 1];
  const blocks: DecodedBlock[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const lo = bounds[i]!;
    const hi = bounds[i + 1]!;
    const events: TransitEvent[] = script
      .filter(([, t]) => t >= lo && (t < hi || (i + 2 === bounds.length && t <= hi)))
      .map(([k, t, name, line]) => ({
        kind: k === 'b' ? 'begin_thread_span' : 'end_thread_span',
        ticks: t - lo,
        name,
        target: 'game',
        filename: 'loop.ts',
        line: line ?? 1,
      }));
    blocks.push({ meta: meta(stream, `${stream}-b${i}`, lo, hi, events.length, o), events });
  }
  return blocks;
}

export function meta(stream: string, blockId: string, lo: number, hi: number, n: number, o: ScriptOptions): BlockMeta {
  return {
    block_id: blockId,
    stream_id: stream,
    process_id: 'proc-1',
    begin_time: timeOf(lo, o),
    begin_ticks: BigInt(lo),
    end_time: timeOf(hi, o),
    end_ticks: BigInt(hi),
    nb_objects: n,
  };
}

/** rows as plain objects, for deepEqual and readable failures */
export function rowObjects(batch: RowBatch): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let r = 0; r < batch.length; r++) {
    const o: Record<string, unknown> = {};
    batch.columns.forEach((c, i) => (o[c.name] = batch.values[i]![r]));
    out.push(o);
  }
  return out;
}

/** a deterministic pseudo-random generator (mulberry32) */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
