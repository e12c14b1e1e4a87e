/**
 * A cpu stream for the span-segment tests: nested spans of random lengths (some crossing minute edges and
 * lasting seconds), cut into ~1 s blocks, each encoded as the client sends it and decoded for the reference.
 */
import { randomUUID } from 'node:crypto';
import { BlockEncoder, decodeBlock, encodeBlock, type BlockMeta, type StreamInfo } from '@sirius/transit';
import { lz4Codec, transitCodecs } from '../../src/lake/lz4-codec.js';
import type { DecodedBlock } from '../../src/lakehouse/span-blocks.js';
import { rng } from './span-fixtures.js';

/** an event with an absolute tick (2 ticks per ns, the fixtures' clock) */
export type SpanEvent =
  | { k: 'b'; tick: number; name: string; line: number }
  | { k: 'e'; tick: number; name: string; line: number }
  | { k: 'ab' | 'ae'; tick: number; id: number; parent: number; name: string; line: number };

export interface StreamBlock {
  meta: BlockMeta;
  body: Uint8Array;
  decoded: DecodedBlock;
}

const SEC = 2e9; // ticks

/** Nested thread spans over `seconds`: roots of 50 ms to 4 s (one in ten 8 s), 0–4 children, 0–2 grandchildren each. */
export function nestedSpans(seed: number, seconds: number, startTick = 0): SpanEvent[] {
  const r = rng(seed);
  const out: SpanEvent[] = [];
  const span = (name: string, line: number, b: number, e: number, depth: number) => {
    out.push({ k: 'b', tick: b, name, line });
    const kids = depth >= 2 ? 0 : Math.floor(r() * (depth === 0 ? 5 : 3));
    let t = b + 1000;
    for (let i = 0; i < kids; i++) {
      const len = Math.floor(((e - t) / (kids - i)) * (0.3 + 0.5 * r()));
      if (len < 2000) break;
      span(depth === 0 ? 'update' : 'work', 10 + depth * 10 + i, t, t + len, depth + 1);
      t += len + 500;
    }
    out.push({ k: 'e', tick: e, name, line });
  };
  let t = startTick + 1000;
  while (t < startTick + seconds * SEC) {
    const len = Math.floor((r() < 0.1 ? 8 : 0.05 + r() * 3.95) * SEC);
    span('frame', 1, t, t + len, 0);
    t += len + Math.floor(r() * 0.05 * SEC) + 1;
  }
  return out;
}

/** Cuts events (sorted by tick) into blocks of 0.7–1.3 s of one stream, encoded and decoded. */
export function cutBlocks(events: readonly SpanEvent[], stream: StreamInfo, t0: bigint, seed: number, startTick = 0): StreamBlock[] {
  const r = rng(seed);
  const last = events.length > 0 ? events[events.length - 1]!.tick : startTick;
  const blocks: StreamBlock[] = [];
  let i = 0;
  for (let lo = startTick; lo <= last; ) {
    const hi = lo + Math.floor((0.7 + 0.6 * r()) * SEC);
    const enc = new BlockEncoder();
    let n = 0;
    for (; i < events.length && events[i]!.tick < hi; i++, n++) {
      const ev = events[i]!;
      const rel = ev.tick - lo;
      if (ev.k === 'b') enc.beginThreadSpan(rel, ev.name, 'game', 'loop.ts', ev.line);
      else if (ev.k === 'e') enc.endThreadSpan(rel, ev.name, 'game', 'loop.ts', ev.line);
      else if (ev.k === 'ab') enc.beginAsyncSpan(rel, ev.id, ev.parent, ev.name, 'net', 'net.ts', ev.line);
      else enc.endAsyncSpan(rel, ev.id, ev.parent, ev.name, 'net', 'net.ts', ev.line);
    }
    const meta: BlockMeta = {
      block_id: randomUUID(),
      stream_id: stream.stream_id,
      process_id: stream.process_id,
      begin_time: t0 + BigInt(lo) / 2n,
      begin_ticks: BigInt(lo),
      end_time: t0 + BigInt(hi) / 2n,
      end_ticks: BigInt(hi),
      nb_objects: n,
    };
    const body = encodeBlock(meta, enc.finish(), lz4Codec);
    blocks.push({ meta, body, decoded: decodeBlock(body, transitCodecs) });
    lo = hi;
  }
  return blocks;
}

/** a deterministic shuffle */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const r = rng(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
