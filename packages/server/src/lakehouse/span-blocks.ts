/**
 * Block ordering and tick→time conversion shared by the span converters.
 *
 * Times are handled internally as float64 nanoseconds relative to a bigint `base`: bigint arithmetic per
 * event costs several times more than float math, and a double holds every integer nanosecond up to
 * 2^53 ns (≈104 days) past the base, which covers any stream's lifetime in one view.
 */
import type { BlockMeta, TransitEvent } from '@sirius/transit';
import { SpanError } from './span-error.js';

/** A decoded block, as `decodeBlock` returns it. */
export interface DecodedBlock {
  meta: BlockMeta;
  events: TransitEvent[];
}

/** What the converters need to know about the process that wrote the blocks. */
export interface SpanProcess {
  /** ticks per second */
  tsc_frequency: number;
  start_time: bigint;
  start_ticks: bigint;
}

/** nanoseconds per tick; throws when the frequency cannot convert ticks to time */
export function nsPerTick(process: SpanProcess): number {
  const f = process.tsc_frequency;
  if (typeof f !== 'number' || !Number.isFinite(f) || f <= 0) {
    throw new SpanError('invalid_process', `tsc_frequency must be a positive finite number, got ${String(f)}`);
  }
  return 1e9 / f;
}

/**
 * The blocks in stream order (by begin_ticks, then block_id for determinism), each block_id once:
 * blocks of one stream do not overlap, and a block listed twice (a retried upload) must not replay
 * its events.
 */
export function orderBlocks(blocks: readonly DecodedBlock[]): DecodedBlock[] {
  const seen = new Set<string>();
  const unique: DecodedBlock[] = [];
  for (const b of blocks) {
    if (seen.has(b.meta.block_id)) continue;
    seen.add(b.meta.block_id);
    unique.push(b);
  }
  let sorted = true;
  for (let i = 1; i < unique.length && sorted; i++) sorted = compareBlocks(unique[i - 1]!, unique[i]!) <= 0;
  return sorted ? unique : unique.sort(compareBlocks);
}

function compareBlocks(a: DecodedBlock, b: DecodedBlock): number {
  const da = a.meta.begin_ticks;
  const db = b.meta.begin_ticks;
  if (da !== db) return da < db ? -1 : 1;
  return a.meta.block_id < b.meta.block_id ? -1 : a.meta.block_id > b.meta.block_id ? 1 : 0;
}
