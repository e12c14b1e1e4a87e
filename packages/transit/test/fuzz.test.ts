import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BlockEncoder,
  TransitError,
  decodeBlock,
  decodeBlockHeader,
  decodeColumns,
  decodePayload,
  encodeBlock,
  noCompression,
} from '../src/index.js';
import type { DecodeLimits } from '../src/index.js';
import { meta } from './support/blocks.js';
import { lz4Codec } from './support/lz4-codec.js';
import { prng, randInt } from './support/prng.js';
import { randomPayload } from './support/random-block.js';

/**
 * A generated corpus of damaged and random inputs. Every decoder must return or throw a TransitError —
 * never a RangeError, TypeError or a hang — whatever the bytes. The corpus is seeded, so a failure names
 * a case that reproduces.
 */
const CASES = 12_000;
const codecs = [noCompression, lz4Codec];

function mutate(rand: () => number, input: Uint8Array): Uint8Array {
  const kind = randInt(rand, 0, 5);
  if (kind === 0) return input.subarray(0, randInt(rand, 0, Math.max(0, input.length - 1)));
  if (kind === 5) {
    const out = new Uint8Array(randInt(rand, 0, 300));
    for (let i = 0; i < out.length; i++) out[i] = randInt(rand, 0, 255);
    return out;
  }
  const out = input.slice();
  if (out.length === 0) return out;
  const flips = kind === 1 ? 1 : randInt(rand, 1, 8);
  for (let i = 0; i < flips; i++) {
    const at = randInt(rand, 0, out.length - 1);
    if (kind === 3) out[at] = 0xff;
    else if (kind === 4) out[at] = randInt(rand, 0, 255);
    else out[at]! ^= 1 << randInt(rand, 0, 7);
  }
  return out;
}

function expectTransitOrValue(label: string, f: () => unknown): 'ok' | 'error' {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (!(e instanceof TransitError)) {
      assert.fail(`${label}: threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    }
    return 'error';
  }
}

test(`${CASES} truncated, bit-flipped and random inputs only ever throw TransitError`, { timeout: 60_000 }, () => {
  const rand = prng(0x5151);
  const enc = new BlockEncoder();
  const tally = { ok: 0, error: 0 };
  const small: DecodeLimits = { maxPayloadBytes: 512, maxEvents: 20, maxStringBytes: 64 };
  for (let i = 0; i < CASES; i++) {
    const { payload, count } = randomPayload(rand, enc);
    const codec = codecs[i % 2]!;
    const envelope = encodeBlock(meta(count), payload, codec);
    const target = i % 3;
    const limits = i % 7 === 0 ? small : undefined;
    const label = `case ${i} (target ${target})`;
    if (target === 0) {
      const bad = mutate(rand, payload);
      tally[expectTransitOrValue(label, () => decodePayload(bad, limits))]++;
      expectTransitOrValue(label, () => decodeColumns(bad, limits));
    } else {
      const bad = mutate(rand, envelope);
      tally[expectTransitOrValue(label, () => decodeBlockHeader(bad, limits))]++;
      expectTransitOrValue(label, () => decodeBlock(bad, codecs, limits));
    }
  }
  console.log(`fuzz: ${CASES} cases, ${tally.ok} decoded, ${tally.error} rejected with TransitError`);
  assert.ok(tally.error > CASES / 2, 'most damaged inputs are rejected');
});

test('valid envelopes around the corpus decode to the events they were built from', () => {
  const rand = prng(7);
  for (let i = 0; i < 500; i++) {
    const { payload, count } = randomPayload(rand);
    const { events } = decodeBlock(encodeBlock(meta(count), payload, codecs[i % 2]!), codecs);
    assert.equal(events.length, count);
    assert.deepEqual(decodePayload(payload), events);
  }
});

test('declared counts far beyond the input are rejected before allocating', () => {
  // Seven tag counts of 2^32-1 would be 30 G events; the decoder must refuse from the header alone.
  const huge = new Uint8Array([...Array(7).fill([0xff, 0xff, 0xff, 0xff, 0x0f]).flat(), 0]);
  assert.throws(() => decodePayload(huge), (e: unknown) => e instanceof TransitError && e.code === 'limit_exceeded');
  // A string count larger than the bytes that follow.
  const strings = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f]);
  assert.throws(() => decodePayload(strings), (e: unknown) => e instanceof TransitError && e.code === 'truncated');
  // A string longer than maxStringBytes.
  const long = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1, 0x80, 0x80, 0x80, 0x01]);
  assert.throws(() => decodePayload(long), (e: unknown) => e instanceof TransitError && e.code === 'limit_exceeded');
  // An over-long varint.
  const varint = new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
  assert.throws(() => decodePayload(varint), (e: unknown) => e instanceof TransitError && e.code === 'corrupt');
  // Invalid UTF-8.
  const utf8 = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1, 1, 0xff, 0, 0, 0, 0]);
  assert.throws(() => decodePayload(utf8), (e: unknown) => e instanceof TransitError && e.code === 'corrupt');
});
