import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Budget } from '../../src/core/budget.js';
import { Backoff } from '../../src/core/backoff.js';

test('charges up to the bound, refuses past it, frees on release', () => {
  const b = Budget.create(1000);
  assert.equal(b.tryCharge(600), true);
  assert.equal(b.tryCharge(500), false);
  assert.equal(b.inflight, 600);
  b.release(600);
  assert.equal(b.tryCharge(1000), true);
});

test('drops are reported once, and can be given back when the report fails', () => {
  const b = Budget.create(10);
  b.countDropped(5);
  b.countDropped(7);
  assert.equal(b.takeUnreported(), 12);
  assert.equal(b.takeUnreported(), 0);
  b.countDropped(1);
  const n = b.takeUnreported();
  b.untake(n);
  assert.equal(b.takeUnreported(), 1);
  assert.equal(b.dropped, 13);
});

test('the shared cells are seen through another view of the same memory', () => {
  const a = Budget.create(100);
  const b = new Budget(a.shared, 100);
  a.countPosted();
  b.markReady();
  assert.equal(b.posted, 1);
  assert.equal(a.ready, true);
});

test('backoff windows grow exponentially up to the cap, jittered, and reset', () => {
  const bo = new Backoff({ baseMs: 10, capMs: 100, random: () => 1 });
  assert.deepEqual([bo.next(), bo.next(), bo.next(), bo.next(), bo.next()], [10, 20, 40, 80, 100]);
  bo.reset();
  assert.equal(bo.next(), 10);
  const half = new Backoff({ baseMs: 10, random: () => 0.5 });
  assert.equal(half.next(), 5);
});
