/**
 * The Frames tab's and the windowed timeline's pure logic: budgets and zoom links from the URL, the window a
 * frame opens on, when a view needs a new window, and the processes search over browser properties.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBudget, parseZoom, formatZoom, frameWindow, DEFAULT_BUDGET_MS } from '../src/lib/frames-query.js';
import { needsReload, paddedWindow, nsPerPixel, slackNs } from '../src/lib/timeline-window.js';
import { deviceFacts, deviceSummary, parseSearch, matchesTerms } from '../src/lib/device-info.js';

test('budget: a positive number of ms from the URL, else the default of 1.5 frames at 60 fps', () => {
  assert.equal(DEFAULT_BUDGET_MS, 25);
  assert.equal(parseBudget('33.4'), 33.4);
  for (const bad of [null, '', '0', '-5', 'abc', 'Infinity']) assert.equal(parseBudget(bad), 25, String(bad));
});

test('zoom links: exact epoch nanoseconds survive the round trip; malformed or empty windows are ignored', () => {
  const w = { begin: 1796292509538413394n, end: 1796292509732398788n };
  assert.deepEqual(parseZoom(formatZoom(w)), w);
  for (const bad of [null, '', '5-5', '9-3', 'a-b', '1.5-2', '-1-2']) assert.equal(parseZoom(bad), null, String(bad));
});

test('a frame opens with a margin of a quarter frame, at least 2 ms, on each side', () => {
  assert.deepEqual(frameWindow(1_000_000_000n, 1_200_000_000n), { begin: 950_000_000n, end: 1_250_000_000n });
  assert.deepEqual(frameWindow(1_000_000_000n, 1_004_000_000n), { begin: 998_000_000n, end: 1_006_000_000n });
});

test('timeline windows: padded within the extent; spans serve every zoom inside, aggregates only their own zoom', () => {
  const extent = { begin: 0, end: 1000 };
  assert.deepEqual(paddedWindow({ begin: 100, end: 200 }, extent), { begin: 50, end: 250 });
  assert.deepEqual(paddedWindow({ begin: 0, end: 1000 }, extent), { begin: 0, end: 1000 });
  assert.equal(needsReload({ begin: 0, end: 10 }, null), true);
  const spans = { begin: 50, end: 250, detail: true, viewWidth: 100 };
  assert.equal(needsReload({ begin: 120, end: 130 }, spans), false, 'zooming into loaded spans');
  assert.equal(needsReload({ begin: 200, end: 300 }, spans), true, 'panning out of the window');
  const agg = { ...spans, detail: false };
  assert.equal(needsReload({ begin: 110, end: 210 }, agg), false, 'a small pan over aggregates');
  assert.equal(needsReload({ begin: 140, end: 160 }, agg), true, 'zooming in on aggregates asks for finer rows');
  assert.equal(nsPerPixel(0n, 3_600_000_000_000n, 1200), 3_000_000_000n);
  assert.equal(nsPerPixel(0n, 10n, 1200), 1n);
  assert.equal(slackNs(10n), 1_000_000_000n);
  assert.equal(slackNs(60_000_000_000n), 60_000_000_000n);
});

test('browser processes: device facts and a one-line summary; other processes have none', () => {
  const chrome = { runtime: 'browser', browser: 'Chrome', browser_version: '131.0.6778.85', os: 'Android 14', cores: '8', device_memory: '8', screen: '412x915', dpr: '2.625', gpu_renderer: 'Adreno 740' };
  assert.deepEqual(deviceFacts(chrome), [
    ['Browser', 'Chrome 131.0.6778.85'], ['OS', 'Android 14'], ['Device', '8 cores · 8 GB'], ['Screen', '412x915 @2.625x'], ['GPU', 'Adreno 740'],
  ]);
  assert.equal(deviceSummary(chrome), 'Chrome 131 · Android 14');
  assert.deepEqual(deviceFacts({ build: 'e2e' }), []);
  assert.equal(deviceSummary({ build: 'e2e' }), '');
});

test('processes search: key:value terms match a property, words match fields or any property value', () => {
  const props = { browser: 'Chrome', os: 'Android 14' };
  const fields = ['e2e-frames', 'host-1', 'browser', 'id-1'];
  const m = (q: string) => matchesTerms(fields, props, parseSearch(q));
  assert.deepEqual(parseSearch(' Browser:Chrome  frames '), { props: [['browser', 'chrome']], words: ['frames'] });
  assert.equal(m('browser:chrome'), true);
  assert.equal(m('browser:firefox'), false);
  assert.equal(m('os:android browser:chr'), true);
  assert.equal(m('gpu:adreno'), false, 'a property the process lacks');
  assert.equal(m('android'), true, 'a word found in a property value');
  assert.equal(m('frames android'), true);
  assert.equal(m('frames ios'), false);
});
