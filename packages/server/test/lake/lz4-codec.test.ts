import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { TransitError } from '@sirius/transit';
import { lz4Codec } from '../../src/lake/lz4-codec.js';

test('round-trips compressible, random and empty data', () => {
  const text = Buffer.from('frame took 16 ms; '.repeat(5000));
  for (const data of [text, randomBytes(70_000), new Uint8Array(0), new Uint8Array([42])]) {
    const packed = lz4Codec.compress(data);
    assert.deepEqual(Buffer.from(lz4Codec.decompress(packed, data.byteLength)), Buffer.from(data));
  }
  assert.ok(lz4Codec.compress(text).byteLength < text.byteLength / 10);
});

test('writes the size-prefixed LZ4 block of docs/transit.md §7', () => {
  const packed = lz4Codec.compress(Buffer.alloc(64, 'a'));
  assert.deepEqual([...packed.subarray(0, 4)], [64, 0, 0, 0]);
  assert.equal(packed[4]! >> 4, 1); // then the LZ4 block: one literal, then a match
});

test('a size prefix that disagrees with the envelope is refused before decompressing', () => {
  const packed = Buffer.from(lz4Codec.compress(Buffer.alloc(1000, 'x')));
  packed.writeUInt32LE(999, 0);
  assert.throws(() => lz4Codec.decompress(packed, 1000), (e: unknown) => e instanceof TransitError && /prefix/.test(e.message));
  assert.throws(() => lz4Codec.decompress(new Uint8Array(3), 0), TransitError);
});

test('refuses sizes LZ4 cannot produce before decompressing', () => {
  const packed = Buffer.from(lz4Codec.compress(Buffer.alloc(1000, 'x')));
  packed.writeUInt32LE(2 ** 31, 0);
  assert.throws(() => lz4Codec.decompress(packed, 2 ** 31), (e: unknown) => e instanceof TransitError && /impossible/.test(e.message));
  assert.throws(() => lz4Codec.decompress(packed, -1), TransitError);
});

test('corrupt input or a wrong size is a TransitError, never a crash', () => {
  const data = randomBytes(5000);
  const packed = lz4Codec.compress(data);
  assert.throws(() => lz4Codec.decompress(packed, data.byteLength + 1), TransitError);
  assert.throws(() => lz4Codec.decompress(packed, data.byteLength - 1), TransitError);
  assert.throws(() => lz4Codec.decompress(packed.subarray(0, packed.byteLength - 10), data.byteLength), TransitError);
  assert.throws(() => lz4Codec.decompress(new Uint8Array([0xff, 0xff, 0xff]), 100), TransitError);
});
