import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serviceColor, waterfall } from '../src/lib/trace-layout.js';

const s = (spanId: string, parentSpanId: string, begin: number, end = begin + 10) => ({ spanId, parentSpanId, begin, end });
const order = (rows: ReturnType<typeof waterfall>) => rows.map((r) => `${r.span.spanId}@${r.depth}`);

test('children under their parent depth-first, siblings by start, whatever the input order', () => {
  const spans = [s('c2', 'a', 5), s('b', '', 1), s('a', '', 0, 20), s('c1', 'a', 2), s('d', 'c1', 3)];
  assert.deepEqual(order(waterfall(spans)), ['a@0', 'c1@1', 'd@2', 'c2@1', 'b@0']);
});

test('a span whose parent is missing is a root; a cycle of parents shows each span once', () => {
  assert.deepEqual(order(waterfall([s('x', 'gone', 5), s('r', '', 0)])), ['r@0', 'x@0']);
  const rows = waterfall([s('p', 'q', 0), s('q', 'p', 1), s('self', 'self', 2)]);
  assert.deepEqual(rows.map((r) => r.span.spanId).sort(), ['p', 'q', 'self']);
  assert.deepEqual(order(rows), ['self@0', 'p@0', 'q@1']);
});

test('one color per service, stable', () => {
  assert.equal(serviceColor('payments'), serviceColor('payments'));
  assert.notEqual(serviceColor('payments'), serviceColor('web-frontend'));
  assert.match(serviceColor('x'), /^hsl\(\d+ 62% 52%\)$/);
});
