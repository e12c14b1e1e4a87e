/**
 * What ingestion accepts: exactly the blocks the strict object decoder (`decodePayload`, which decodes every
 * message as fatal UTF-8) accepts with the header's event count, whatever the version, codec and mix of events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { BlockEncoder, decodeBlockHeader, decodeColumns, decodePayload, decompressBlock, encodeBlock, lz4SectionsCodec, type BlockMeta, type Codec } from '@sirius/transit';
import { lz4Codec, transitCodecs } from '../../src/lake/lz4-codec.js';
import { validateBlock } from '../../src/ingestion/validate-block.js';
import { HttpError } from '../../src/ingestion/http-error.js';

const LIMITS = {};

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => ((a = (a * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

const TEXTS = ['', 'frame', 'é', '🎮 go', 'ü'.repeat(40), 'plain ascii message'];

/** A payload of logs (and, when `mixed`, metrics and spans) in `version`. */
function payload(rand: () => number, version: number, mixed: boolean): { bytes: Uint8Array; count: number } {
  const enc = new BlockEncoder({ version });
  const n = 1 + Math.floor(rand() * 30);
  for (let i = 0; i < n; i++) {
    const k = mixed ? Math.floor(rand() * 3) : 0;
    if (k === 0) enc.log(i * 10, 3, 't', `${TEXTS[Math.floor(rand() * TEXTS.length)]}${i}`, rand() < 0.2 ? { a: 'b' } : null);
    else if (k === 1) enc.floatMetric(i * 10, 'm', 'ms', 't', rand());
    else enc.beginThreadSpan(i * 10, 's', 't', 'f.ts', i);
  }
  return { bytes: enc.finish(), count: n };
}

/** Damages one message so that it is no longer UTF-8 on its own, in one of the ways a client could. */
function damage(rand: () => number, p: Uint8Array, version: number): Uint8Array {
  const bad = p.slice();
  const { logs } = decodeColumns(bad, undefined, version);
  const i = Math.floor(rand() * logs.count);
  const a = logs.msgStart[i]!;
  const len = logs.msgOffsets[i + 1]! - logs.msgOffsets[i]!;
  if (len === 0) return bad;
  const how = Math.floor(rand() * 3);
  if (how === 0) bad[a + Math.floor(rand() * len)] = 0xff; // a byte no UTF-8 has
  else if (how === 1) bad[a + len - 1] = 0xc3; // a sequence cut at the message's end (the next message may complete it)
  else bad[a] = 0x80; // a continuation byte with no lead
  return bad;
}

function envelope(p: Uint8Array, count: number, version: number, codec: Codec): Uint8Array {
  const meta: BlockMeta = {
    block_id: randomUUID(), stream_id: randomUUID(), process_id: randomUUID(), begin_time: 1n, begin_ticks: 0n, end_time: 2n, end_ticks: 1000n, nb_objects: count,
  };
  return encodeBlock(meta, p, codec, version);
}

function strictVerdict(body: Uint8Array): boolean {
  try {
    const h = decodeBlockHeader(body);
    decodePayload(decompressBlock(h, transitCodecs), undefined, h.meta.nb_objects, h.version);
    return true;
  } catch {
    return false;
  }
}

test('ingestion accepts a block exactly when the strict decoder does: messages must be UTF-8, each on its own', () => {
  const rand = rng(2026);
  const seen = { accepted: 0, rejected: 0 };
  for (let n = 0; n < 1500; n++) {
    const version = rand() < 0.25 ? 1 : 2;
    const mixed = rand() < 0.3;
    const codec = [lz4Codec, lz4SectionsCodec(lz4Codec)][Math.floor(rand() * 2)]!;
    const { bytes, count } = payload(rand, version, mixed);
    const p = rand() < 0.6 ? damage(rand, bytes, version) : bytes;
    const body = envelope(p, rand() < 0.05 ? count + 1 : count, version, codec);
    const expected = strictVerdict(body);
    let accepted: boolean;
    try {
      validateBlock(body, LIMITS);
      accepted = true;
    } catch (e) {
      assert.ok(e instanceof HttpError && e.status === 400, String(e));
      accepted = false;
    }
    assert.equal(accepted, expected, `case ${n}: v${version}, ${mixed ? 'mixed' : 'logs only'}, codec ${codec.id}`);
    seen[accepted ? 'accepted' : 'rejected']++;
  }
  assert.ok(seen.accepted > 300 && seen.rejected > 300, JSON.stringify(seen));
});

test('two messages that are each cut UTF-8 but whole together are refused, with the reason', () => {
  // "x\xC3" + "\xA9y": back to back the bytes read "xéy", yet neither message is UTF-8 on its own
  const enc = new BlockEncoder();
  enc.log(0, 3, 't', 'xA', null);
  enc.log(1, 3, 't', 'Ay', null);
  const p = enc.finish();
  const { logs } = decodeColumns(p);
  p[logs.msgStart[0]! + 1] = 0xc3;
  p[logs.msgStart[1]!] = 0xa9;
  assert.throws(() => validateBlock(envelope(p, 2, 2, lz4SectionsCodec(lz4Codec)), LIMITS), (e: unknown) => e instanceof HttpError && e.status === 400 && /UTF-8/.test(e.message));
});
