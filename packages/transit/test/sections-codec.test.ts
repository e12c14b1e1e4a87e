import assert from 'node:assert/strict';
import { test } from 'node:test';
import { uncompressSync } from 'lz4-napi';
import { dataSectionOffset, decodeBlock, decodeBlockHeader, decodePayload, decompressBlock, encodeBlock, lz4SectionsCodec, noCompression, packedDataSection, TransitError } from '../src/index.js';
import { readSections } from '../src/payload-walker.js';
import { meta } from './support/blocks.js';
import { lz4Codec } from './support/lz4-codec.js';
import { prng } from './support/prng.js';
import { randomLogPayload, randomPayload } from './support/random-block.js';

const codec = lz4SectionsCodec(lz4Codec);
const CODECS = [noCompression, lz4Codec, codec];

test('codec 2 round-trips every kind of payload, and splits it where the data section starts', () => {
  const rand = prng(2);
  for (let i = 0; i < 300; i++) {
    const { payload, count } = i % 2 ? randomPayload(rand) : randomLogPayload(rand);
    const body = encodeBlock(meta(count), payload, codec);
    assert.equal(body[5], 2, 'codec id in the envelope');
    const header = decodeBlockHeader(body);
    assert.deepEqual(decompressBlock(header, CODECS), payload);
    assert.deepEqual(decodeBlock(body, CODECS).events, decodePayload(payload));
    const split = readSections(payload, undefined, undefined, 2).data.pos;
    assert.equal(dataSectionOffset(payload), split);
    const packed = packedDataSection(header)!;
    assert.equal(packed.offset, split);
    assert.equal(packed.size, payload.length - split);
    // the bare LZ4 block is the data section on its own: what the lakehouse splices into Parquet pages
    const prefixed = new Uint8Array(4 + packed.lz4.length);
    new DataView(prefixed.buffer).setUint32(0, packed.size, true);
    prefixed.set(packed.lz4, 4);
    assert.deepEqual(new Uint8Array(uncompressSync(prefixed)), payload.subarray(split));
  }
});

test('packedDataSection is null for other codecs', () => {
  const { payload, count } = randomLogPayload(prng(3));
  assert.equal(packedDataSection(decodeBlockHeader(encodeBlock(meta(count), payload, lz4Codec))), null);
  assert.equal(packedDataSection(decodeBlockHeader(encodeBlock(meta(count), payload, noCompression))), null);
});

test('damaged codec-2 bodies are rejected with TransitError, never anything else', () => {
  const rand = prng(4);
  const { payload, count } = randomPayload(rand);
  const good = encodeBlock(meta(count), payload, codec);
  const compressedAt = 100;
  const cases: [string, (b: Uint8Array) => Uint8Array][] = [
    ['first part longer than the body', (b) => (new DataView(b.buffer).setUint32(compressedAt, 1 << 30, true), b)],
    ['first part too short for its prefix', (b) => (new DataView(b.buffer).setUint32(compressedAt, 2, true), b)],
    ['part sizes that do not add up', (b) => (new DataView(b.buffer).setUint32(compressedAt + 4, payload.length + 1, true), b)],
  ];
  for (const [what, damage] of cases) {
    const bad = damage(good.slice());
    assert.throws(() => decompressBlock(decodeBlockHeader(bad), CODECS), (e) => e instanceof TransitError && e.code === 'corrupt', what);
  }
  for (let i = 0; i < 500; i++) {
    const bad = good.slice();
    const at = compressedAt + Math.floor(rand() * (bad.length - compressedAt));
    bad[at] = bad[at]! ^ (1 + Math.floor(rand() * 255));
    try {
      const out = decompressBlock(decodeBlockHeader(bad), CODECS);
      assert.equal(out.length, payload.length);
    } catch (e) {
      assert.ok(e instanceof TransitError, `flip at ${at}: ${String(e)}`);
    }
  }
});

test('lz4SectionsCodec only wraps an LZ4 codec', () => {
  assert.throws(() => lz4SectionsCodec(noCompression), /LZ4 codec/);
});
