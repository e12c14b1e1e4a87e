/**
 * process_spans(process_id, kind) over a process with a main thread and two workers, sent as transit blocks
 * through real ingestion: its thread spans are each stream's thread_spans rows, with the stream's id and
 * thread name; its async spans (begun on the main thread, some ended on a worker, some crossing minute edges)
 * are the scripted ones; the kinds filter; async_events by segments equals the all-history converter restricted
 * to the range. PGlite and PostgreSQL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { StreamInfo } from '@sirius/transit';
import { pgBackends } from '../support/pg.js';
import { T0, TSC, makeProcess, makeStream, post, startTestLake, type TestLake } from './lake-fixtures.js';
import { cutBlocks, nestedSpans, shuffled, type SpanEvent, type StreamBlock } from './segment-fixtures.js';
import { createLakehouse } from '../../src/lakehouse/index.js';
import { asyncEventsRows } from '../../src/lakehouse/async-events.js';
import { createQueryEngine, type QueryEngine } from '../../src/analytics/query-engine.js';
import { QueryError } from '../../src/analytics/query-error.js';
import type { TimeRange } from '../../src/lakehouse/lakehouse.js';

const SECONDS = 150;
const SEC = 2e9;
const PROCESS = { tsc_frequency: TSC, start_time: T0, start_ticks: 0n };
const ALL = { begin: T0 - 60_000_000_000n, end: T0 + BigInt(SECONDS + 120) * 1_000_000_000n };

interface AsyncSpan {
  id: bigint;
  parent: bigint;
  begin: bigint;
  end: bigint;
  name: string;
  stream: string;
}

const timeOf = (tick: number) => T0 + BigInt(tick) / 2n;

/** Async spans every 4 s begun on main: the odd ones end on worker 1 three seconds later, each with a child on main. */
function asyncScript(main: SpanEvent[], worker: SpanEvent[], mainId: string): AsyncSpan[] {
  const spans: AsyncSpan[] = [];
  for (let k = 1, t = 0.5 * SEC; t < (SECONDS - 5) * SEC; k += 2, t += 4 * SEC) {
    const end = t + 3 * SEC;
    main.push({ k: 'ab', tick: t, id: k, parent: 0, name: 'request', line: 5 });
    (k % 4 === 1 ? worker : main).push({ k: 'ae', tick: end, id: k, parent: 0, name: 'request', line: 5 });
    main.push({ k: 'ab', tick: t + SEC, id: k + 1, parent: k, name: 'query', line: 6 });
    main.push({ k: 'ae', tick: t + 2 * SEC, id: k + 1, parent: k, name: 'query', line: 6 });
    spans.push({ id: BigInt(k), parent: 0n, begin: timeOf(t), end: timeOf(end), name: 'request', stream: mainId });
    spans.push({ id: BigInt(k + 1), parent: BigInt(k), begin: timeOf(t + SEC), end: timeOf(t + 2 * SEC), name: 'query', stream: mainId });
  }
  const order = (a: SpanEvent, b: SpanEvent) => a.tick - b.tick;
  main.sort(order);
  worker.sort(order);
  return spans;
}

// blocks of one stream are cut at their own times, so the event times of a span's end depend on its block's
// start; the expected times come from the decoded blocks (asyncEventsRows), the script gives ids and streams
function eventTimes(blocks: readonly StreamBlock[]): Map<string, bigint> {
  const byStream = new Map<string, StreamBlock[]>();
  for (const b of blocks) byStream.set(b.meta.stream_id, [...(byStream.get(b.meta.stream_id) ?? []), b]);
  const rows = asyncEventsRows([...byStream].map(([stream_id, bs]) => ({ stream_id, blocks: bs.map((b) => b.decoded) })), PROCESS);
  const [, , time, type, span] = rows.values as [string[], string[], bigint[], string[], bigint[]];
  const out = new Map<string, bigint>();
  for (let i = 0; i < rows.length; i++) out.set(`${span[i]}/${type[i]}`, time[i]!);
  return out;
}

for (const backend of pgBackends) {
  describe(`process_spans across a main thread and two workers (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestLake;
    let engine: QueryEngine;
    const p = makeProcess();
    const named = (name: string): StreamInfo => ({ ...makeStream(p.process_id, ['cpu']), properties: { thread_name: name } });
    const [main, w1, w2] = [named('main'), named('worker-1'), named('worker-2')];
    const mainEvents = nestedSpans(21, SECONDS);
    const w1Events = nestedSpans(22, SECONDS);
    const w2Events = nestedSpans(23, SECONDS);
    const expectedAsync = asyncScript(mainEvents, w1Events, main.stream_id);
    const blocks = [
      ...cutBlocks(mainEvents, main, T0, 31),
      ...cutBlocks(w1Events, w1, T0, 32),
      ...cutBlocks(w2Events, w2, T0, 33),
    ];
    const times = eventTimes(blocks);
    for (const s of expectedAsync) {
      s.begin = times.get(`${s.id}/begin`)!;
      s.end = times.get(`${s.id}/end`)!;
    }

    async function rows(sql: string, range: TimeRange = ALL): Promise<Record<string, unknown>[]> {
      const out = await engine.query(sql, range);
      const names = out.table.schema.fields.map((f) => f.name);
      const cols = names.map((n) => [...out.table.getChild(n)!.toArray()] as unknown[]);
      return Array.from({ length: out.table.numRows }, (_, i) => Object.fromEntries(names.map((n, c) => [n, cols[c]![i]])));
    }

    before(async () => {
      t = await startTestLake(backend);
      const lakehouse = createLakehouse({ lake: t.server.lake, dataDir: t.dir });
      engine = await createQueryEngine({ lake: t.server.lake, lakehouse, cacheDir: join(t.dir, 'cache'), limits: { timeoutMs: 300_000 } });
      await post(t.server, 'insert_process', p);
      for (const s of [main, w1, w2]) await post(t.server, 'insert_stream', s);
      for (const b of shuffled(blocks, 5)) await post(t.server, 'insert_block', b.body);
    });
    after(async () => {
      await engine?.close();
      await t?.close();
    });

    const COLS = `id, parent, depth, epoch_ns("begin") AS b, epoch_ns("end") AS e, name`;

    test('thread spans: every stream\'s thread_spans rows, with its id and thread name', async () => {
      const all = await rows(`SELECT stream_id, thread_name, ${COLS} FROM process_spans('${p.process_id}', 'thread') ORDER BY stream_id, b, depth`);
      for (const [s, name] of [[main, 'main'], [w1, 'worker-1'], [w2, 'worker-2']] as const) {
        const mine = all.filter((r) => r.stream_id === s.stream_id);
        assert.ok(mine.length > 100, `${name}: ${mine.length} spans`);
        assert.ok(mine.every((r) => r.thread_name === name));
        const expected = await rows(`SELECT ${COLS} FROM view_instance('thread_spans', '${s.stream_id}') ORDER BY b, depth`);
        assert.deepEqual(mine.map(({ stream_id: _s, thread_name: _t, ...r }) => r), expected, `${name}: same rows as its thread_spans`);
      }
      assert.equal(new Set(all.map((r) => r.stream_id)).size, 3);
    });

    test('async spans: begun on main, ended on main or a worker, with parents and depths', async () => {
      const got = await rows(`SELECT id, parent, depth, epoch_ns("begin") AS b, epoch_ns("end") AS e, name, stream_id, thread_name, kind FROM process_spans('${p.process_id}', 'async') ORDER BY b`);
      assert.deepEqual(
        got,
        expectedAsync.map((s) => ({ id: s.id, parent: s.parent, depth: s.parent === 0n ? 0 : 1, b: s.begin, e: s.end, name: s.name, stream_id: s.stream, thread_name: 'main', kind: 'async' })),
      );
    });

    test("a range: spans overlapping it once, 'both' is thread plus async", async () => {
      const range = { begin: T0 + 58_300_000_000n, end: T0 + 67_000_000_000n };
      const both = await rows(`SELECT kind, stream_id, id, epoch_ns("begin") AS b, epoch_ns("end") AS e FROM process_spans('${p.process_id}', 'both')`, range);
      const thread = await rows(`SELECT kind, stream_id, id FROM process_spans('${p.process_id}', 'thread')`, range);
      const async = both.filter((r) => r.kind === 'async');
      assert.equal(both.length, thread.length + async.length);
      assert.equal(new Set(both.map((r) => `${r.kind}/${r.stream_id}/${r.id}`)).size, both.length, 'each span once');
      assert.ok(both.every((r) => (r.b as bigint) < range.end && (r.e as bigint) > range.begin));
      const want = expectedAsync.filter((s) => s.begin < range.end && s.end > range.begin).map((s) => s.id).sort();
      assert.deepEqual(async.map((r) => r.id as bigint).sort(), want);
      assert.ok(async.some((r) => (r.b as bigint) < range.begin), 'an async span begun before the range');
    });

    test('async_events by segments: the converter over all blocks, restricted to the range', async () => {
      const range = { begin: T0 + 59_000_000_000n, end: T0 + 125_000_000_000n };
      const got = await rows(`SELECT stream_id, block_id, epoch_ns(time) AS time, event_type, span_id, parent_span_id, depth, name FROM view_instance('async_events', '${p.process_id}') ORDER BY time, span_id, event_type`, range);
      const byStream = new Map<string, StreamBlock[]>();
      for (const b of blocks) byStream.set(b.meta.stream_id, [...(byStream.get(b.meta.stream_id) ?? []), b]);
      const all = asyncEventsRows([...byStream].map(([stream_id, bs]) => ({ stream_id, blocks: bs.map((b) => b.decoded) })), PROCESS);
      const [stream, block, time, type, span, parent, depth, , name] = all.values as [string[], string[], bigint[], string[], bigint[], bigint[], number[], bigint[], string[]];
      const want = [];
      for (let i = 0; i < all.length; i++) {
        if (time[i]! < range.begin || time[i]! >= range.end) continue;
        want.push({ stream_id: stream[i], block_id: block[i], time: time[i], event_type: type[i], span_id: span[i], parent_span_id: parent[i], depth: depth[i], name: name[i] });
      }
      want.sort((a, b) => (a.time! < b.time! ? -1 : a.time! > b.time! ? 1 : a.span_id! < b.span_id! ? -1 : a.span_id! > b.span_id! ? 1 : a.event_type! < b.event_type! ? -1 : 1));
      assert.ok(want.length > 20);
      assert.deepEqual(got, want);
    });

    test('with no range given, the range comes from the bounds on "begin"', async () => {
      const begin = new Date(Number((T0 + 60_000_000_000n) / 1_000_000n)).toISOString();
      const end = new Date(Number((T0 + 90_000_000_000n) / 1_000_000n)).toISOString();
      const out = await engine.query(`SELECT count(*) AS n FROM process_spans('${p.process_id}', 'thread') WHERE "begin" >= '${begin}' AND "begin" < '${end}'`, {});
      assert.equal(out.stats.begin, String(T0 + 60_000_000_000n - ((T0 + 60_000_000_000n) % 1_000_000n)));
      assert.equal(out.stats.end, String(T0 + 90_000_000_000n - ((T0 + 90_000_000_000n) % 1_000_000n)));
      assert.ok(Number(out.table.getChild('n')!.get(0)) > 100);
    });

    test('a bad kind or process id is refused with the reason', async () => {
      await assert.rejects(engine.query(`SELECT * FROM process_spans('${p.process_id}', 'threads')`, ALL), (e: unknown) => e instanceof QueryError && /unknown kind 'threads'/.test(e.message));
      await assert.rejects(engine.query(`SELECT * FROM process_spans('', 'both')`, ALL), (e: unknown) => e instanceof QueryError && /process id is empty/.test(e.message));
      await assert.rejects(engine.query(`SELECT * FROM process_spans('${p.process_id}')`, ALL), (e: unknown) => e instanceof QueryError && /two string literals/.test(e.message));
    });
  });
}
