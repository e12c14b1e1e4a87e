import { BlockEncoder } from '../../src/index.js';
import { randInt } from './prng.js';

const WORDS = ['', 'game', 'render', 'physics', 'ünï', '🎮', 'a'.repeat(200), 'net', 'k', 'v'];

function word(rand: () => number): string {
  return WORDS[randInt(rand, 0, WORDS.length - 1)]!;
}

/** A valid payload with a random mix of every event kind; returns it with its event count. */
export function randomPayload(rand: () => number, enc = new BlockEncoder()): { payload: Uint8Array; count: number } {
  const n = randInt(rand, 0, 40);
  let ticks = randInt(rand, 0, 1000);
  for (let i = 0; i < n; i++) {
    ticks = Math.max(0, ticks + randInt(rand, -50, 20000));
    const props = rand() < 0.3 ? { [word(rand)]: word(rand) } : null;
    const kind = randInt(rand, 0, 6);
    const line = randInt(rand, 0, 5000);
    if (kind === 0) enc.log(ticks, randInt(rand, 1, 6), word(rand), word(rand) + i, props);
    else if (kind === 1) enc.intMetric(ticks, word(rand), word(rand), word(rand), BigInt(randInt(rand, -1e9, 1e9)) * 1000003n, props);
    else if (kind === 2) enc.floatMetric(ticks, word(rand), word(rand), word(rand), (rand() - 0.5) * 1e6, props);
    else if (kind === 3) enc.beginThreadSpan(ticks, word(rand), word(rand), word(rand), line);
    else if (kind === 4) enc.endThreadSpan(ticks, word(rand), word(rand), word(rand), line);
    else if (kind === 5) enc.beginAsyncSpan(ticks, randInt(rand, 0, 1e6), randInt(rand, 0, 1e6), word(rand), word(rand), word(rand), line);
    else enc.endAsyncSpan(ticks, randInt(rand, 0, 1e6), randInt(rand, 0, 1e6), word(rand), word(rand), word(rand), line);
  }
  return { payload: enc.finish(), count: n };
}

/** The next event's ticks: deltas of every varint width, and some backwards (a negative delta is its own op bit). */
function nextTicks(rand: () => number, ticks: number): number {
  const jump = [randInt(rand, 0, 100), randInt(rand, 0, 1e6), randInt(rand, 0, 1e12), -randInt(rand, 0, 1000)][randInt(rand, 0, 3)]!;
  return Math.max(0, ticks + jump);
}

/** No properties, an empty map, or one or two pairs. */
function randomProperties(rand: () => number): Record<string, string> | null {
  if (rand() < 0.3) return rand() < 0.5 ? { [word(rand)]: word(rand) } : { [word(rand)]: word(rand), [`${word(rand)}2`]: word(rand) };
  return rand() < 0.1 ? {} : null;
}

/** `n` (1–60) events at random ticks, each with random properties, written by `event`; the finished payload. */
function randomEvents(rand: () => number, enc: BlockEncoder, event: (i: number, ticks: number, props: Record<string, string> | null) => void): { payload: Uint8Array; count: number } {
  const n = randInt(rand, 1, 60);
  let ticks = randInt(rand, 0, 1000);
  for (let i = 0; i < n; i++) {
    ticks = nextTicks(rand, ticks);
    event(i, ticks, randomProperties(rand));
  }
  return { payload: enc.finish(), count: n };
}

/** A valid payload of logs only (a log stream's block, which `decodeColumns` reads on its own path). */
export function randomLogPayload(rand: () => number, enc = new BlockEncoder()): { payload: Uint8Array; count: number } {
  return randomEvents(rand, enc, (i, ticks, props) => {
    const msg = rand() < 0.05 ? 'm'.repeat(randInt(rand, 250, 3000)) : word(rand) + i;
    enc.log(ticks, randInt(rand, 0, 255), word(rand), msg, props);
  });
}

const INT_VALUES = [0n, -1n, 2n ** 47n - 1n, -(2n ** 47n), 2n ** 48n, -(2n ** 48n) - 1n, 2n ** 63n - 1n, -(2n ** 63n)];
const FLOAT_VALUES = [0, -0, Number.NaN, Infinity, -Infinity, Number.MIN_VALUE, 1e300];

/** A valid payload of int and float metrics only (a metrics stream's block, also read on a path of its own). */
export function randomMetricPayload(rand: () => number, enc = new BlockEncoder()): { payload: Uint8Array; count: number } {
  return randomEvents(rand, enc, (_i, ticks, props) => {
    // values of every zigzag width, the 48-bit boundary of the number path and the int64 extremes
    if (rand() < 0.5) {
      const v = rand() < 0.3 ? INT_VALUES[randInt(rand, 0, INT_VALUES.length - 1)]! : BigInt(randInt(rand, -1e9, 1e9)) * BigInt(randInt(rand, 1, 1e6));
      enc.intMetric(ticks, word(rand), word(rand), word(rand), v, props);
    } else {
      const v = rand() < 0.3 ? FLOAT_VALUES[randInt(rand, 0, FLOAT_VALUES.length - 1)]! : (rand() - 0.5) * 1e6;
      enc.floatMetric(ticks, word(rand), word(rand), word(rand), v, props);
    }
  });
}
