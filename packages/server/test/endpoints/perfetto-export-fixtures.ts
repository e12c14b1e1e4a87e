/**
 * Test support: a process whose CPU trace crosses many export windows. The main thread has 2.5 s levels
 * holding 2 ms frames (update, render), a worker has 300 ms jobs, and async requests lasting up to 2 s
 * overlap and nest. Blocks of 500 ms, sent like a real client; `expected` lists every span once.
 */
import { BlockEncoder, encodeBlock, type BlockMeta, type ProcessInfo, type StreamInfo } from '@sirius/transit';
import { lz4Codec } from '../../src/lake/lz4-codec.js';
import { T0, TSC, makeProcess, makeStream } from '../lakehouse/lake-fixtures.js';
import { rng } from '../lakehouse/span-fixtures.js';

const NS_PER_TICK = 1e9 / TSC;
const MS = TSC / 1000; // ticks per millisecond
/** data from 1 s to 19 s after T0: inside one minute of event time (T0 is 40 s into a minute) */
const START = 1000 * MS;

type Ev =
  | { ticks: number; kind: 'b' | 'e'; name: string }
  | { ticks: number; kind: 'ab' | 'ae'; name: string; id: number; parent: number };

export interface ExpectedSpan {
  /** thread name, or 'async' */
  track: string;
  name: string;
  begin: bigint;
  end: bigint;
  /** thread spans: the depth; async spans: undefined (their lane decides) */
  depth?: number;
}

export interface TraceFixture {
  process: ProcessInfo;
  streams: StreamInfo[];
  blocks: Uint8Array[];
  expected: ExpectedSpan[];
  /** a range covering all of it */
  begin: bigint;
  end: bigint;
}

const ns = (ticks: number): bigint => T0 + BigInt(Math.round(ticks * NS_PER_TICK));

export function traceFixture(opts: { levels?: number; frameMs?: number } = {}): TraceFixture {
  const process = makeProcess({ exe: 'streamer' });
  const main = { ...makeStream(process.process_id, ['cpu']), properties: { thread_name: 'main' } };
  const worker = { ...makeStream(process.process_id, ['cpu']), properties: { thread_name: 'worker' } };
  const expected: ExpectedSpan[] = [];
  const mainEvents: Ev[] = [];
  const span = (events: Ev[], track: string, name: string, b: number, e: number, depth: number) => {
    events.push({ ticks: b, kind: 'b', name }, { ticks: e, kind: 'e', name });
    expected.push({ track, name, begin: ns(b), end: ns(e), depth });
  };
  const levels = opts.levels ?? 7;
  const frame = (opts.frameMs ?? 2) * MS;
  const level = 2500 * MS;
  for (let k = 0; k < levels; k++) {
    const lb = START + k * level + 2;
    const le = START + (k + 1) * level;
    span(mainEvents, 'main', `level ${k}`, lb, le, 0);
    for (let fb = lb + 2; fb + frame < le; fb += frame) {
      span(mainEvents, 'main', 'frame', fb, fb + (frame * 9) / 10, 1);
      span(mainEvents, 'main', 'update', fb + frame / 20, fb + (frame * 9) / 20, 2);
      span(mainEvents, 'main', 'render ✨', fb + frame / 2, fb + (frame * 17) / 20, 2);
    }
  }
  const workerEvents: Ev[] = [];
  const end = START + levels * level;
  for (let jb = START + 7 * MS; jb + 300 * MS < end; jb += 310 * MS) {
    span(workerEvents, 'worker', 'job', jb, jb + 300 * MS, 0);
    span(workerEvents, 'worker', 'chunk', jb + 10 * MS, jb + 110 * MS, 1);
    span(workerEvents, 'worker', 'chunk', jb + 150 * MS, jb + 250 * MS, 1);
  }
  // async requests on the worker's stream: every 20 ms, 50 ms to 2 s long, a third of them children of the previous one
  const random = rng(42);
  let id = 1;
  let prev: { id: number; b: number; e: number } | undefined;
  for (let rb = START + 3 * MS + 2; rb + 2000 * MS < end; rb += 20 * MS) {
    const len = 2 * Math.floor(((50 + random() * 1950) * MS) / 2); // even ticks: whole nanoseconds
    const child = prev !== undefined && random() < 0.33 && rb < prev.e;
    const parent = child ? prev!.id : 0;
    const e = child ? Math.min(rb + len, prev!.e) : rb + len;
    const name = `request ${id}`;
    workerEvents.push({ ticks: rb, kind: 'ab', name, id, parent }, { ticks: e, kind: 'ae', name, id, parent });
    expected.push({ track: 'async', name, begin: ns(rb), end: ns(e) });
    prev = { id, b: rb, e };
    id++;
  }
  const blocks = [...toBlocks(process, main, mainEvents), ...toBlocks(process, worker, workerEvents)];
  return { process, streams: [main, worker], blocks, expected, begin: T0 - 60_000_000_000n, end: T0 + 120_000_000_000n };
}

/** the stream's events in time order, cut into blocks of 500 ms */
function toBlocks(process: ProcessInfo, stream: StreamInfo, events: Ev[]): Uint8Array[] {
  const order = { e: 0, ae: 0, b: 1, ab: 1 };
  events.sort((a, b) => a.ticks - b.ticks || order[a.kind] - order[b.kind]);
  const out: Uint8Array[] = [];
  const span = 500 * MS;
  for (let i = 0; i < events.length; ) {
    const enc = new BlockEncoder();
    const first = events[i]!.ticks;
    let last = first;
    let n = 0;
    for (; i < events.length && events[i]!.ticks < first + span; i++, n++) {
      const ev = events[i]!;
      last = ev.ticks;
      // ticks in a block are relative to its begin_ticks
      const t = ev.ticks - first;
      if (ev.kind === 'b') enc.beginThreadSpan(t, ev.name, 'game', 'loop.ts', 7);
      else if (ev.kind === 'e') enc.endThreadSpan(t, ev.name, 'game', 'loop.ts', 7);
      else if (ev.kind === 'ab') enc.beginAsyncSpan(t, ev.id, ev.parent, ev.name, 'net', 'client.ts', 12);
      else if (ev.kind === 'ae') enc.endAsyncSpan(t, ev.id, ev.parent, ev.name, 'net', 'client.ts', 12);
    }
    const meta: BlockMeta = {
      block_id: crypto.randomUUID(), stream_id: stream.stream_id, process_id: process.process_id,
      begin_time: ns(first), begin_ticks: BigInt(first), end_time: ns(last) + 1n, end_ticks: BigInt(last) + 1n, nb_objects: n,
    };
    out.push(encodeBlock(meta, enc.finish(), lz4Codec));
  }
  return out;
}
