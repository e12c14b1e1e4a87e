/** The calling thread's buffers: records round-trip through the sender's encoder, and refused buffers are counted. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BlockEncoder, decodeBlock, noCompression, encodeBlock } from '@sirius/transit';
import { encodeBatch, type ThreadTable } from '../../src/core/batch-encoder.js';
import { Budget } from '../../src/core/budget.js';
import { Recorder } from '../../src/core/recorder.js';
import { BEGIN_ASYNC, BEGIN_THREAD, END_ASYNC, END_THREAD, type Batch } from '../../src/core/records.js';
import type { BatchSink } from '../../src/core/sink.js';

/** a sink over a real Budget that keeps what it accepts (copying, like the channel sink) */
class KeepingSink implements BatchSink {
  readonly batches: Batch[] = [];
  constructor(readonly budget: Budget) {}
  submit(b: Batch): boolean {
    if (!this.budget.tryCharge(b.bytes)) return false;
    this.batches.push({ ...b, f64: b.f64.slice(0, b.slots) });
    return true;
  }
  reuse(): undefined {
    return undefined;
  }
  countDropped(n: number): void {
    this.budget.countDropped(n);
  }
}

function decode(b: Batch, table: ThreadTable) {
  const e = encodeBatch(b, table, new BlockEncoder());
  const id = '00000000-0000-4000-8000-000000000001';
  const bytes = encodeBlock(
    { block_id: id, stream_id: id, process_id: id, begin_time: 0n, begin_ticks: BigInt(e.beginTicks), end_time: 0n, end_ticks: BigInt(e.endTicks), nb_objects: e.events },
    e.payload, noCompression,
  );
  return decodeBlock(bytes, [noCompression]).events;
}

test('records become the same events, with ticks in ns relative to the block', () => {
  let t = 1.5;
  const rec = new Recorder({ clock: () => (t += 0.001), thread: 't0', spanIdBase: 0 });
  const sink = new KeepingSink(Budget.create(1 << 20));
  rec.sink = sink;
  const d = rec.interner.span('s', 'app', 'f.ts', 7);
  rec.threadSpan(BEGIN_THREAD, d);
  rec.asyncSpan(BEGIN_ASYNC, d, 5, 2);
  rec.asyncSpan(END_ASYNC, d, 5, 2);
  rec.threadSpan(END_THREAD, d);
  rec.logEvent(3, rec.interner.log('tg'), 'hello', { k: 'v' });
  rec.logEvent(4, rec.interner.log('tg'), 'again', null);
  rec.metric(rec.interner.metric('m', 'ms', 'app'), 2.5, true, null);
  rec.metric(rec.interner.metric('n', 'count', 'app'), 7, false, null);
  rec.metric(rec.interner.metric('n', 'count', 'app'), 2n ** 60n, false, null);
  rec.flushAll();
  assert.equal(sink.batches.length, 3);
  const table: ThreadTable = { descriptors: [], originOffsetMs: 0 };
  const byStream = Object.fromEntries(sink.batches.map((b) => [b.stream, decode(b, table)]));
  assert.deepEqual(byStream.log!.map((e) => e.kind === 'log' && [e.level, e.target, e.msg, e.properties]), [
    [3, 'tg', 'hello', { k: 'v' }],
    [4, 'tg', 'again', null],
  ]);
  const metrics = byStream.metrics!.map((e) => ('value' in e ? e.value : undefined));
  assert.deepEqual(metrics, [2.5, 7n, 2n ** 60n]);
  const cpu = byStream.cpu!;
  assert.deepEqual(cpu.map((e) => e.kind), ['begin_thread_span', 'begin_async_span', 'end_async_span', 'end_thread_span']);
  assert.deepEqual(cpu.map((e) => e.ticks), [0, 1000, 2000, 3000]);
  const a = cpu[1]!;
  assert.ok(a.kind === 'begin_async_span' && a.span_id === 5 && a.parent_span_id === 2 && a.filename === 'f.ts' && a.line === 7);
});

test('a full buffer is handed over and writing goes on', () => {
  const rec = new Recorder({ clock: () => 1, thread: 't0', spanIdBase: 0, cpuEvents: 4 });
  const sink = new KeepingSink(Budget.create(1 << 20));
  rec.sink = sink;
  const d = rec.interner.span('s', 'app', '', 0);
  for (let i = 0; i < 10; i++) rec.threadSpan(BEGIN_THREAD, d);
  rec.flushAll();
  assert.deepEqual(sink.batches.map((b) => b.events), [4, 4, 2]);
  assert.deepEqual(sink.batches.map((b) => b.descriptors.length), [1, 0, 0]);
});

test('past the bound the newest buffer is dropped, counted, and its descriptors kept for later', () => {
  const budget = Budget.create(100); // one 4-event cpu batch is 64 bytes
  const rec = new Recorder({ clock: () => 1, thread: 't0', spanIdBase: 0, cpuEvents: 4 });
  const sink = new KeepingSink(budget);
  rec.sink = sink;
  const d = rec.interner.span('s', 'app', '', 0);
  for (let i = 0; i < 12; i++) rec.threadSpan(BEGIN_THREAD, d);
  rec.flushAll();
  assert.equal(sink.batches.length, 1);
  assert.equal(budget.dropped, 8);
  budget.release(64);
  const e = rec.interner.span('t', 'app', '', 0);
  rec.threadSpan(BEGIN_THREAD, e);
  rec.flushAll();
  assert.equal(sink.batches.length, 2);
  assert.equal(sink.batches[1]!.descriptors.length, 1);
});

test('events recorded with no sink attached are dropped and counted once a sink attaches', () => {
  const rec = new Recorder({ clock: () => 1, thread: 't0', spanIdBase: 0, logEvents: 2 });
  const target = rec.interner.log('x');
  for (let i = 0; i < 5; i++) rec.logEvent(4, target, `m${i}`, null);
  const budget = Budget.create(1 << 20);
  rec.sink = new KeepingSink(budget);
  rec.flushAll();
  assert.equal(budget.dropped, 4);
  assert.equal((rec.sink as KeepingSink).batches[0]!.msgs![0], 'm4');
});

test('span ids are disjoint per thread', () => {
  const a = new Recorder({ clock: () => 1, thread: 't0', spanIdBase: 0 });
  const b = new Recorder({ clock: () => 1, thread: 't1', spanIdBase: 2 ** 32 });
  assert.equal(a.newSpanId(), 1);
  assert.equal(b.newSpanId(), 2 ** 32 + 1);
});

test('with a sink that transfers buffers away, every full buffer arrives whole', () => {
  const budget = Budget.create(1 << 24);
  const got: Batch[] = [];
  const transferring: BatchSink = {
    submit(b) {
      got.push({ ...b, f64: structuredClone(b.f64, { transfer: [b.f64.buffer] }) });
      return true;
    },
    reuse: () => undefined,
    countDropped: (n) => budget.countDropped(n),
  };
  const rec = new Recorder({ clock: () => 1, thread: 't0', spanIdBase: 0, logEvents: 4 });
  rec.sink = transferring;
  const target = rec.interner.log('x');
  for (let i = 0; i < 13; i++) rec.logEvent(4, target, `m${i}`, null);
  rec.flushAll();
  assert.deepEqual(got.map((b) => [b.events, b.f64.length >= b.slots]), [[4, true], [4, true], [4, true], [1, true]]);
  const table: ThreadTable = { descriptors: [], originOffsetMs: 0 };
  const msgs = got.flatMap((b) => decode(b, table).map((e) => (e.kind === 'log' ? e.msg : '')));
  assert.deepEqual(msgs, Array.from({ length: 13 }, (_, i) => `m${i}`));
});
