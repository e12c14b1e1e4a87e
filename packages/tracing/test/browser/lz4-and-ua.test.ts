/**
 * Pieces of the browser SDK that run in Node as they do in a page: the lz4js codec (what it compresses, the
 * server's lz4-napi decodes, codec 1 and codec 2, including input with no match and empty input), and the
 * user-agent parsing behind the `browser`, `browser_version` and `os` process properties.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BlockEncoder, decodeBlock, encodeBlock, lz4SectionsCodec } from '@sirius/transit';
import { transitCodecs } from '@sirius/server';
import { lz4Codec } from '../../src/platform/browser/lz4-codec.js';
import { parseUserAgent } from '../../src/platform/browser/process-info.js';
import { seeded } from '../support/flaky-proxy.js';

test('lz4js blocks decode with the server\'s LZ4 (codec 1), whatever the input', () => {
  const server = transitCodecs.find((c) => c.id === 1)!;
  const random = seeded(7);
  const noise = Uint8Array.from({ length: 5000 }, () => Math.floor(random() * 256));
  const text = new TextEncoder().encode('player 12 scored 300 points; '.repeat(3000));
  for (const input of [new Uint8Array(0), Uint8Array.of(1, 2, 3), noise, text, new Uint8Array(70_000)]) {
    const packed = lz4Codec.compress(input);
    assert.deepEqual(server.decompress(packed, input.length), input, `${input.length} bytes`);
    assert.deepEqual(lz4Codec.decompress(packed, input.length), input);
  }
  assert.ok(lz4Codec.compress(text).length < text.length / 10, 'repetitive text compresses');
});

test('a block of logs, metrics and spans compressed in the browser (codec 2) decodes on the server, event for event', () => {
  const enc = new BlockEncoder();
  for (let i = 0; i < 1000; i++) {
    enc.log(i * 1000, 4, 'game', `event ${i % 37}`, i % 100 === 0 ? { i: String(i) } : null);
    enc.floatMetric(i * 1000 + 1, 'frame_time', 'ms', 'sirius.frame', 16 + (i % 5), null);
  }
  const payload = enc.finish();
  const meta = {
    block_id: '00000000-0000-4000-8000-000000000001', stream_id: '00000000-0000-4000-8000-000000000002',
    process_id: '00000000-0000-4000-8000-000000000003', begin_time: 1n, begin_ticks: 0n, end_time: 2n, end_ticks: 999_001n, nb_objects: 2000,
  };
  const body = encodeBlock(meta, payload, lz4SectionsCodec(lz4Codec));
  const { events } = decodeBlock(body, transitCodecs);
  assert.equal(events.length, 2000);
  assert.deepEqual(events[200], { kind: 'log', ticks: 100_000, level: 4, target: 'game', msg: 'event 26', properties: { i: '100' } });
});

test('browser, version and OS from UA client hints and from user-agent strings', () => {
  const cases: [string, Parameters<typeof parseUserAgent>[1], string, string, string][] = [
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
      { brands: [{ brand: 'Not-A.Brand', version: '99' }, { brand: 'Chromium', version: '124' }, { brand: 'Google Chrome', version: '124' }], platform: 'Linux' },
      'Chrome', '124', 'Linux'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51',
      { brands: [{ brand: 'Chromium', version: '124' }, { brand: 'Microsoft Edge', version: '124' }], platform: 'Windows' }, 'Edge', '124', 'Windows'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0', undefined, 'Firefox', '125.0', 'macOS'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
      undefined, 'Safari', '17.4', 'iOS'],
    ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36', undefined, 'Chrome', '124.0.6367.82', 'Android'],
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.6367.82 Safari/537.36', undefined, 'HeadlessChrome', '124.0.6367.82', 'Linux'],
    ['curl/8.0', undefined, 'unknown', '', 'unknown'],
  ];
  for (const [ua, hints, browser, version, os] of cases) {
    assert.deepEqual(parseUserAgent(ua, hints), { browser, browser_version: version, os }, ua);
  }
});
