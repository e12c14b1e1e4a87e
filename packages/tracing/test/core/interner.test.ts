import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Interner } from '../../src/core/interner.js';

test('a tuple gets one id, shipped once; different tuples get different ids', () => {
  const i = new Interner();
  const a = i.span('frame', 'app', '', 0);
  assert.equal(i.span('frame', 'app', '', 0), a);
  const b = i.span('frame', 'app', 'x.ts', 3);
  const c = i.metric('frame', 'ms', 'app');
  const d = i.log('app');
  assert.equal(new Set([a, b, c, d]).size, 4);
  assert.deepEqual(i.takePending().map((x) => x.id), [a, b, c, d]);
  assert.deepEqual(i.takePending(), []);
  assert.equal(i.metric('frame', 'ms', 'app'), c);
  assert.equal(i.metric('frame', 's', 'app') === c, false);
});

test('descriptors of a dropped batch are restored ahead of newer ones', () => {
  const i = new Interner();
  i.log('a');
  const taken = i.takePending();
  i.log('b');
  i.restore(taken);
  assert.deepEqual(i.takePending().map((d) => (d.kind === 'log' ? d.target : '')), ['a', 'b']);
});
