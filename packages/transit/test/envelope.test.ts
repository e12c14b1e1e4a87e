import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BlockEncoder,
  ENVELOPE_HEADER_BYTES,
  TRANSIT_VERSION,
  TransitError,
  decodeBlock,
  decodeBlockHeader,
  encodeBlock,
  forEachEvent,
  noCompression,
} from '../src/index.js';
import type { TransitErrorCode } from '../src/index.js';
import { meta } from './support/blocks.js';
import { lz4Codec } from './support/lz4-codec.js';

function sampleBlock(n = 100): { payload: Uint8Array; count: number } {
  const enc = new BlockEncoder();
  for (let i = 0; i < n; i++) {
    enc.beginThreadSpan(i * 20, 'frame', 'game', 'loop.ts', 10);
    enc.endThreadSpan(i * 20 + 10, 'frame', 'game', 'loop.ts', 10);
  }
  enc.log(n * 20, 4, 'game', 'done', { level: '3' });
  return { payload: enc.finish(), count: 2 * n + 1 };
}

function rejects(f: () => unknown, code: TransitErrorCode): void {
  assert.throws(f, (e: unknown) => e instanceof TransitError && e.code === code);
}

test('envelope round-trips with both codecs', () => {
  const { payload, count } = sampleBlock();
  for (const codec of [noCompression, lz4Codec]) {
    const m = meta(count, { begin_time: -(2n ** 63n), end_ticks: 2n ** 63n - 1n });
    const bytes = encodeBlock(m, payload, codec);
    const header = decodeBlockHeader(bytes);
    assert.deepEqual(header.meta, m);
    assert.equal(header.version, TRANSIT_VERSION);
    assert.equal(header.codecId, codec.id);
    assert.equal(header.uncompressedSize, payload.length);
    assert.equal(header.compressed.length, bytes.length - ENVELOPE_HEADER_BYTES);
    const { meta: m2, events } = decodeBlock(bytes, [noCompression, lz4Codec]);
    assert.deepEqual(m2, m);
    assert.equal(events.length, count);
    assert.equal(events[count - 1]?.kind, 'log');
  }
});

test('uppercase UUIDs are read back in canonical lowercase', () => {
  const m = meta(0, { block_id: 'ABCDEF01-2345-4678-9ABC-DEF012345678' });
  const bytes = encodeBlock(m, new BlockEncoder().finish(), noCompression);
  assert.equal(decodeBlockHeader(bytes).meta.block_id, 'abcdef01-2345-4678-9abc-def012345678');
});

test('encodeBlock names the bad field', () => {
  const p = new BlockEncoder().finish();
  assert.throws(() => encodeBlock(meta(0, { stream_id: 'nope' }), p, noCompression), /stream_id: not a UUID/);
  assert.throws(() => encodeBlock(meta(0, { end_time: 2n ** 63n }), p, noCompression), /end_time/);
  assert.throws(() => encodeBlock(meta(-1), p, noCompression), /nb_objects/);
});

test('a version-1 block (message lengths in the data section) still decodes, to the same events as version 2', () => {
  const events = (enc: BlockEncoder) => {
    enc.log(0, 4, 'game', 'hello', { k: 'v' });
    enc.floatMetric(10, 'fps', 'hz', 'game', 60);
    enc.log(20, 2, 'game', 'ü'.repeat(100), null);
    return enc.finish();
  };
  const v1 = encodeBlock(meta(3), events(new BlockEncoder({ version: 1 })), lz4Codec, 1);
  const v2 = encodeBlock(meta(3), events(new BlockEncoder()), lz4Codec);
  assert.equal(v1[4], 1);
  assert.equal(decodeBlockHeader(v1).version, 1);
  assert.notDeepEqual(v1.subarray(ENVELOPE_HEADER_BYTES), v2.subarray(ENVELOPE_HEADER_BYTES), 'the layouts differ');
  assert.deepEqual(decodeBlock(v1, [lz4Codec]), decodeBlock(v2, [lz4Codec]));
  // read with the wrong layout, the same bytes do not decode
  const p1 = events(new BlockEncoder({ version: 1 }));
  assert.throws(() => forEachEvent(p1, { log() {}, intMetric() {}, floatMetric() {}, threadSpan() {}, asyncSpan() {} }, undefined, 3, 2), TransitError);
  assert.throws(() => new BlockEncoder({ version: 3 }), /version: 3/);
  rejects(() => encodeBlock(meta(0), new BlockEncoder().finish(), noCompression, 3), 'unsupported_version');
});

test('header checks: magic, version, truncation, trailing bytes, limits', () => {
  const { payload, count } = sampleBlock(10);
  const good = encodeBlock(meta(count), payload, noCompression);
  rejects(() => decodeBlockHeader(good.subarray(0, 3)), 'truncated');
  const badMagic = good.slice();
  badMagic[0] = 0x50;
  rejects(() => decodeBlockHeader(badMagic), 'bad_magic');
  for (const v of [0, 3, 255]) {
    const other = good.slice();
    other[4] = v;
    rejects(() => decodeBlockHeader(other), 'unsupported_version');
    rejects(() => decodeBlock(other, [noCompression]), 'unsupported_version');
  }
  rejects(() => decodeBlockHeader(good.subarray(0, ENVELOPE_HEADER_BYTES - 1)), 'truncated');
  rejects(() => decodeBlockHeader(good.subarray(0, good.length - 1)), 'truncated');
  const longer = new Uint8Array(good.length + 1);
  longer.set(good);
  rejects(() => decodeBlockHeader(longer), 'corrupt');
  rejects(() => decodeBlockHeader(good, { maxPayloadBytes: payload.length - 1 }), 'limit_exceeded');
  rejects(() => decodeBlockHeader(good, { maxEvents: count - 1 }), 'limit_exceeded');
  assert.equal(decodeBlockHeader(good, { maxPayloadBytes: payload.length, maxEvents: count }).meta.nb_objects, count);
});

test('decodeBlock checks codec, sizes and nb_objects', () => {
  const { payload, count } = sampleBlock(10);
  rejects(() => decodeBlock(encodeBlock(meta(count), payload, lz4Codec), [noCompression]), 'corrupt');
  rejects(() => decodeBlock(encodeBlock(meta(count + 1), payload, noCompression), [noCompression]), 'corrupt');
  rejects(() => decodeBlock(encodeBlock(meta(count - 1), payload, noCompression), [noCompression]), 'corrupt');
  const wrongSize = encodeBlock(meta(count), payload, lz4Codec);
  new DataView(wrongSize.buffer).setUint32(8, payload.length + 1, true);
  rejects(() => decodeBlock(wrongSize, [lz4Codec]), 'corrupt');
  const throwing = { ...noCompression, decompress: (): Uint8Array => { throw new RangeError('boom'); } };
  rejects(() => decodeBlock(encodeBlock(meta(count), payload, noCompression), [throwing]), 'corrupt');
});

test('the envelope layout is byte-exact', () => {
  const bytes = encodeBlock(meta(0), new BlockEncoder().finish(), noCompression);
  const hex = Buffer.from(bytes.subarray(0, 16)).toString('hex');
  assert.equal(hex, '53495242' + '02' + '00' + '0000' + '0c000000' + '0c000000');
  assert.equal(Buffer.from(bytes.subarray(16, 32)).toString('hex'), '0f8e2b1c7a444c1e9d3b2a6f5e8c9b01');
  assert.equal(bytes.length, ENVELOPE_HEADER_BYTES + 12);
  assert.deepEqual([...bytes.subarray(ENVELOPE_HEADER_BYTES)], new Array(12).fill(0), 'an empty payload is twelve zero counts/lengths');
});
