import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compressSync } from 'lz4-napi';
import { BlockEncoder, decodePayload } from '../src/index.js';
import { writeFrames } from './support/game-loop-trace.js';
import { prng } from './support/prng.js';

/**
 * The storage target: ≤ 3 bytes per CPU-trace span event after LZ4, for a realistic game-loop trace,
 * counting the payload (with its string table) and LZ4's size prefix. Blocks of one second (60 frames) and
 * of 10 frames are measured; the figure is printed for the report.
 */
for (const frames of [60, 10]) {
  test(`a ${frames}-frame block of game-loop spans compresses to ≤ 3 bytes per event`, () => {
    const rand = prng(60 + frames);
    const enc = new BlockEncoder();
    let raw = 0;
    let compressed = 0;
    let events = 0;
    for (let block = 0; block < 20; block++) {
      const n = writeFrames(enc, rand, frames);
      const payload = enc.finish();
      assert.equal(decodePayload(payload).length, n);
      raw += payload.length;
      compressed += compressSync(Buffer.from(payload)).length;
      events += n;
    }
    const perEvent = compressed / events;
    console.log(
      `${frames}-frame blocks: ${events} span events, raw ${(raw / events).toFixed(2)} B/event, LZ4 ${perEvent.toFixed(2)} B/event`,
    );
    assert.ok(perEvent <= 3, `${perEvent.toFixed(2)} bytes per event`);
  });
}
