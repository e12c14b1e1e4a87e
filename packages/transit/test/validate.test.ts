import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TransitError, validateProcessInfo, validateStreamInfo } from '../src/index.js';

const process = {
  process_id: '0F8E2B1C-7A44-4C1E-9D3B-2A6F5E8C9B01',
  exe: '/usr/bin/node',
  username: 'alice',
  realname: 'Alice',
  computer: 'box',
  distro: 'Debian 12',
  cpu_brand: 'AMD EPYC',
  tsc_frequency: 1e9,
  start_time: '1700000000000000000',
  start_ticks: '123456789',
  parent_process_id: null,
  properties: { version: '1.2.3' },
};

const stream = { stream_id: '1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d', process_id: process.process_id, tags: ['cpu'], properties: {} };

function rejectsField(f: () => unknown, field: string): void {
  assert.throws(f, (e: unknown) => e instanceof TransitError && e.code === 'corrupt' && e.message.startsWith(`${field}: `), field);
}

test('a good process is accepted and normalized', () => {
  const p = validateProcessInfo(JSON.parse(JSON.stringify({ ...process, extra: 1 })));
  assert.deepEqual(p, { ...process, process_id: process.process_id.toLowerCase() });
  const q = validateProcessInfo({ ...process, parent_process_id: undefined, properties: undefined, start_ticks: 42 });
  assert.equal(q.parent_process_id, null);
  assert.deepEqual(q.properties, {});
  assert.equal(q.start_ticks, '42');
  assert.equal(validateProcessInfo({ ...process, start_time: '-9223372036854775808' }).start_time, '-9223372036854775808');
});

test('a bad process is rejected naming the field', () => {
  rejectsField(() => validateProcessInfo(null), 'process');
  rejectsField(() => validateProcessInfo([]), 'process');
  rejectsField(() => validateProcessInfo({ ...process, process_id: 'x' }), 'process_id');
  rejectsField(() => validateProcessInfo({ ...process, exe: undefined }), 'exe');
  rejectsField(() => validateProcessInfo({ ...process, cpu_brand: 3 }), 'cpu_brand');
  rejectsField(() => validateProcessInfo({ ...process, tsc_frequency: 0 }), 'tsc_frequency');
  rejectsField(() => validateProcessInfo({ ...process, tsc_frequency: '1e9' }), 'tsc_frequency');
  rejectsField(() => validateProcessInfo({ ...process, start_time: '1.5' }), 'start_time');
  rejectsField(() => validateProcessInfo({ ...process, start_time: '9223372036854775808' }), 'start_time');
  rejectsField(() => validateProcessInfo({ ...process, start_ticks: 2 ** 60 }), 'start_ticks');
  rejectsField(() => validateProcessInfo({ ...process, parent_process_id: 'abc' }), 'parent_process_id');
  rejectsField(() => validateProcessInfo({ ...process, properties: { a: 1 } }), 'properties.a');
  rejectsField(() => validateProcessInfo({ ...process, properties: ['a'] }), 'properties');
});

test('values PostgreSQL cannot store, and oversized ones, are rejected naming the field', () => {
  rejectsField(() => validateProcessInfo({ ...process, tsc_frequency: 0.4 }), 'tsc_frequency');
  rejectsField(() => validateProcessInfo({ ...process, tsc_frequency: 2 ** 70 }), 'tsc_frequency');
  rejectsField(() => validateProcessInfo({ ...process, tsc_frequency: -1e9 }), 'tsc_frequency');
  rejectsField(() => validateProcessInfo({ ...process, tsc_frequency: Number.NaN }), 'tsc_frequency');
  rejectsField(() => validateProcessInfo({ ...process, exe: 'node\u0000' }), 'exe');
  rejectsField(() => validateProcessInfo({ ...process, computer: 'box\uD800' }), 'computer');
  rejectsField(() => validateProcessInfo({ ...process, username: '\uDC00alice' }), 'username');
  rejectsField(() => validateProcessInfo({ ...process, distro: 'x'.repeat(64 * 1024 + 1) }), 'distro');
  rejectsField(() => validateProcessInfo({ ...process, properties: { k: 'v\u0000' } }), 'properties.k');
  rejectsField(() => validateProcessInfo({ ...process, properties: { k: '\uDBFF' } }), 'properties.k');
  rejectsField(() => validateProcessInfo({ ...process, properties: { 'a\u0000b': 'v' } }), 'properties name "a\\u0000b"');
  rejectsField(() => validateProcessInfo({ ...process, properties: { ['k'.repeat(2000)]: 'v' } }), `properties name "${'k'.repeat(64)}"`);
  const many = Object.fromEntries(Array.from({ length: 1025 }, (_, i) => [`p${i}`, 'v']));
  rejectsField(() => validateProcessInfo({ ...process, properties: many }), 'properties');
  rejectsField(() => validateStreamInfo({ ...stream, tags: ['cpu\u0000'] }), 'tags[0]');
  rejectsField(() => validateStreamInfo({ ...stream, tags: Array.from({ length: 65 }, () => 'cpu') }), 'tags');
  rejectsField(() => validateStreamInfo({ ...stream, properties: { thread_name: 'main\uD83D' } }), 'properties.thread_name');
  // what is storable stays accepted: pairs of surrogates (emoji), other control characters, the maximum length
  const ok = validateProcessInfo({ ...process, exe: 'n\u{1F600}de\u0001', distro: 'x'.repeat(64 * 1024), tsc_frequency: 2 ** 53 - 1 });
  assert.equal(ok.exe, 'n\u{1F600}de\u0001');
  assert.equal(validateStreamInfo({ ...stream, properties: { thread_name: '\u{1F600}' } }).properties.thread_name, '\u{1F600}');
});

test('a good stream is accepted, a bad one rejected naming the field', () => {
  assert.deepEqual(validateStreamInfo(stream), { ...stream, process_id: stream.process_id.toLowerCase() });
  assert.deepEqual(validateStreamInfo({ ...stream, properties: undefined }).properties, {});
  rejectsField(() => validateStreamInfo('x'), 'stream');
  rejectsField(() => validateStreamInfo({ ...stream, stream_id: undefined }), 'stream_id');
  rejectsField(() => validateStreamInfo({ ...stream, process_id: 7 }), 'process_id');
  rejectsField(() => validateStreamInfo({ ...stream, tags: 'cpu' }), 'tags');
  rejectsField(() => validateStreamInfo({ ...stream, tags: ['cpu', 1] }), 'tags[1]');
  rejectsField(() => validateStreamInfo({ ...stream, properties: { k: null } }), 'properties.k');
});
