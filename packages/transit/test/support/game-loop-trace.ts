import type { BlockEncoder } from '../../src/index.js';
import { randInt } from './prng.js';

/**
 * A realistic CPU trace of a 60 fps game loop: nested per-frame spans whose begin/end events are 1–20 µs
 * apart, on a nanosecond clock (tsc_frequency 1e9, the worst case for tick deltas), idle until the next
 * frame. Returns the number of events written.
 */
const FRAME_NS = 16_666_667;

interface Node {
  name: string;
  line: number;
  children?: Node[];
}

const FRAME: Node = {
  name: 'frame',
  line: 12,
  children: [
    { name: 'input', line: 30 },
    {
      name: 'update',
      line: 41,
      children: [
        { name: 'physics', line: 57, children: [{ name: 'broadphase', line: 80 }, { name: 'narrowphase', line: 95 }, { name: 'solve', line: 120 }] },
        { name: 'ai', line: 150 },
        { name: 'animation', line: 170 },
      ],
    },
    {
      name: 'render',
      line: 200,
      children: [{ name: 'cull', line: 210 }, ...Array.from({ length: 8 }, () => ({ name: 'draw', line: 230 })), { name: 'present', line: 260 }],
    },
    { name: 'audio', line: 300 },
  ],
};

export function writeFrames(enc: BlockEncoder, rand: () => number, frames: number, startTicks = 0): number {
  let t = startTicks;
  let events = 0;
  const visit = (n: Node): void => {
    t += randInt(rand, 1000, 20000);
    enc.beginThreadSpan(t, n.name, 'game', 'src/game-loop.ts', n.line);
    for (const c of n.children ?? []) visit(c);
    t += randInt(rand, 1000, 20000);
    enc.endThreadSpan(t, n.name, 'game', 'src/game-loop.ts', n.line);
    events += 2;
  };
  for (let f = 0; f < frames; f++) {
    const frameStart = startTicks + f * FRAME_NS;
    t = Math.max(t, frameStart);
    visit(FRAME);
  }
  return events;
}
