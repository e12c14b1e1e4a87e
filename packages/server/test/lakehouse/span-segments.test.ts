/**
 * thread_spans by one-minute segments: through real ingestion and the query engine, a stream whose spans cross
 * segment edges, sent out of order, returns for a range the same spans as a full rebuild of the stream (the
 * all-history converter of thread-spans.ts) restricted to spans overlapping that range; a late block rebuilds
 * only the segment it falls in (the other partition rows stay as they were). PGlite and PostgreSQL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pgBackends } from '../support/pg.js';
import { T0, TSC, makeProcess, makeStream, post, startTestLake, type TestLake } from './lake-fixtures.js';
import { cutBlocks, nestedSpans, shuffled, type StreamBlock } from './segment-fixtures.js';
import { createLakehouse } from '../../src/lakehouse/index.js';
import { listPartitions } from '../../src/lakehouse/partition-repository.js';
import { threadSpansRows } from '../../src/lakehouse/thread-spans.js';
import { SPAN_REACH, SPAN_SEGMENT, spanSegmentOf, spanWindow, threadSegmentRows, type SpanBlock } from '../../src/lakehouse/span-segments.js';
import { decodeStoredBlock } from '../../src/lakehouse/source-blocks.js';
import type { SpanTable } from '../../src/lakehouse/span-table.js';
import { createQueryEngine, type QueryEngine } from '../../src/analytics/query-engine.js';
import type { TimeRange } from '../../src/lakehouse/lakehouse.js';

const SECONDS = 200;
const PROCESS = { tsc_frequency: TSC, start_time: T0, start_ticks: 0n };

interface Span {
  id: bigint;
  parent: bigint;
  depth: number;
  begin: bigint;
  end: bigint;
  name: string;
  line: number;
}

/** what identifies a span whatever its id: where it begins and what it is */
const keyOf = (s: Span) => `${s.begin}/${s.name}/${s.line}/${s.depth}`;

function reference(blocks: readonly StreamBlock[]): Span[] {
  const rows = threadSpansRows(blocks.map((b) => b.decoded), PROCESS);
  const [id, parent, depth, , begin, end, , name, , , line] = rows.values as [bigint[], bigint[], number[], bigint[], bigint[], bigint[], bigint[], string[], string[], string[], number[]];
  return id.map((_, i) => ({ id: id[i]!, parent: parent[i]!, depth: depth[i]!, begin: begin[i]!, end: end[i]!, name: name[i]!, line: line[i]! }));
}

const overlaps = (s: Span, r: TimeRange) => s.begin < r.end && (s.begin >= r.begin || s.end > r.begin);

/** Same spans (begin, end, depth, call site) and the same parent for each, ids aside; ids unique. */
function assertSameSpans(actual: Span[], expected: Span[], what: string): void {
  const sort = (a: Span, b: Span) => (a.begin < b.begin ? -1 : a.begin > b.begin ? 1 : a.depth - b.depth);
  const strip = (s: Span) => ({ key: keyOf(s), end: s.end });
  assert.deepEqual([...actual].sort(sort).map(strip), [...expected].sort(sort).map(strip), `${what}: the spans`);
  assert.equal(new Set(actual.map((s) => s.id)).size, actual.length, `${what}: ids are unique`);
  const byId = new Map(actual.map((s) => [s.id, s]));
  const expById = new Map(expected.map((s) => [s.id, s]));
  const expByKey = new Map(expected.map((s) => [keyOf(s), s]));
  for (const s of actual) {
    const want = expByKey.get(keyOf(s))!;
    if (want.parent === 0n) assert.equal(s.parent, 0n, `${what}: ${keyOf(s)} is a root`);
    else assert.equal(keyOf(byId.get(s.parent)!), keyOf(expById.get(want.parent)!), `${what}: parent of ${keyOf(s)}`);
  }
}

/** The spans of every segment holding a block, replayed from the blocks of its window (as the view builds them). */
async function segmented(blocks: readonly StreamBlock[]): Promise<Map<bigint, Span[]>> {
  const spanBlocks: SpanBlock[] = blocks.map((b) => ({ ...b.meta, columns: decodeStoredBlock(b.body) }));
  const starts = new Set(blocks.map((b) => spanSegmentOf(b.meta.begin_time).begin));
  const out = new Map<bigint, Span[]>();
  for (const begin of starts) {
    const seg = { begin, end: begin + SPAN_SEGMENT };
    const w = spanWindow(seg);
    const inWindow = spanBlocks.filter((b) => b.begin_time < w.end && b.end_time >= w.begin);
    // the lookahead as the view feeds it: the later blocks of the window, then nothing
    let later = inWindow.filter((b) => b.begin_time >= seg.end);
    const more = async () => {
      const next = later;
      later = [];
      return next;
    };
    const r = await threadSegmentRows(inWindow.filter((b) => b.begin_time < seg.end), more, seg, PROCESS);
    out.set(begin, spansOf(r.owned));
  }
  return out;
}

function spansOf(t: SpanTable): Span[] {
  const [id, parent, depth, , begin, end, , name, , , line] = t.values as [bigint[], bigint[], number[], bigint[], bigint[], bigint[], bigint[], string[], string[], string[], number[]];
  return id.map((_, i) => ({ id: id[i]!, parent: parent[i]!, depth: depth[i]!, begin: begin[i]!, end: end[i]!, name: name[i]!, line: line[i]! }));
}

describe('gaps left by tail sampling', () => {
  const p = makeProcess();
  const cpu = makeStream(p.process_id, ['cpu']);
  const blocks = cutBlocks(nestedSpans(41, 300), cpu, T0, 43);
  // two runs of three discarded blocks, in the second and fourth minutes
  const dropped = new Set([...blocks.slice(70, 73), ...blocks.slice(190, 193)].map((b) => b.meta.block_id));
  const kept = blocks.filter((b) => !dropped.has(b.meta.block_id));
  const gaps = blocks.filter((b) => dropped.has(b.meta.block_id));

  test('the tree stays sound: parents enclose their children one level up, ids are unique', async () => {
    const all = [...(await segmented(kept)).values()].flat();
    assert.ok(all.length > 500, `${all.length} spans`);
    assert.equal(new Set(all.map((s) => s.id)).size, all.length);
    const byId = new Map(all.map((s) => [s.id, s]));
    for (const s of all) {
      assert.ok(s.end >= s.begin);
      if (s.parent === 0n) continue;
      const up = byId.get(s.parent);
      assert.ok(up, `the parent of ${keyOf(s)} is a span of the stream`);
      assert.equal(up.depth + 1, s.depth);
      assert.ok(up.begin <= s.begin && up.end >= s.end, `${keyOf(up)} encloses ${keyOf(s)}`);
    }
  });

  test('segments away from the gaps are what they are without the gaps', async () => {
    const withGaps = await segmented(kept);
    const complete = await segmented(blocks);
    const near = (seg: bigint) => gaps.some((g) => g.meta.end_time >= seg - SPAN_REACH && g.meta.begin_time < seg + SPAN_SEGMENT + SPAN_REACH);
    let compared = 0;
    for (const [seg, spans] of withGaps) {
      if (near(seg)) continue;
      assert.deepEqual(spans, complete.get(seg), `segment ${seg - T0}`);
      compared++;
    }
    assert.ok(compared >= 2, `${compared} segments compared`);
    // and without gaps, the segments together are the full rebuild
    assertSameSpans([...complete.values()].flat(), reference(blocks), 'all segments against the full rebuild');
  });
});

for (const backend of pgBackends) {
  describe(`thread_spans by segments (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestLake;
    let engine: QueryEngine;
    const p = makeProcess();
    const cpu = makeStream(p.process_id, ['cpu']);
    const events = nestedSpans(7, SECONDS);
    const blocks = cutBlocks(events, cpu, T0, 11);
    // a block in the middle of the third segment, far from its edges, arrives late
    const lateAt = spanSegmentOf(T0 + 150_000_000_000n).begin + SPAN_SEGMENT / 2n;
    const late = blocks.find((b) => b.meta.begin_time <= lateAt && b.meta.end_time > lateAt)!;
    const early = blocks.filter((b) => b !== late);

    async function query(range: TimeRange): Promise<Span[]> {
      const out = await engine.query(
        `SELECT id, parent, depth, epoch_ns("begin") AS b, epoch_ns("end") AS e, name, line FROM view_instance('thread_spans', '${cpu.stream_id}')`,
        range,
      );
      const col = (n: string) => [...out.table.getChild(n)!.toArray()] as unknown[];
      const [id, parent, depth, b, e, name, line] = ['id', 'parent', 'depth', 'b', 'e', 'name', 'line'].map(col);
      return id!.map((_, i) => ({
        id: id![i] as bigint, parent: parent![i] as bigint, depth: Number(depth![i]), begin: b![i] as bigint, end: e![i] as bigint,
        name: String(name![i]), line: Number(line![i]),
      }));
    }

    async function partitionFiles(): Promise<Map<string, string>> {
      const parts = await listPartitions(t.server.lake.sql, { viewSet: 'thread_spans', instance: cpu.stream_id });
      return new Map(parts.map((x) => [`${x.begin_insert_time}/${x.end_insert_time === x.begin_insert_time ? 'open' : 'own'}`, x.file_path]));
    }

    before(async () => {
      t = await startTestLake(backend);
      const lakehouse = createLakehouse({ lake: t.server.lake, dataDir: t.dir });
      engine = await createQueryEngine({ lake: t.server.lake, lakehouse, cacheDir: join(t.dir, 'cache'), limits: { timeoutMs: 300_000 } });
      await post(t.server, 'insert_process', p);
      await post(t.server, 'insert_stream', cpu);
      for (const b of shuffled(early, 3)) await post(t.server, 'insert_block', b.body);
    });
    after(async () => {
      await engine?.close();
      await t?.close();
    });

    test('the fixture crosses segment edges with nested spans', () => {
      const spans = reference(blocks);
      const crossing = spans.filter((s) => spanSegmentOf(s.begin).begin !== spanSegmentOf(s.end).begin);
      assert.ok(crossing.length >= 3, `${crossing.length} spans cross a segment edge`);
      assert.ok(crossing.some((s) => s.depth > 0), 'a nested span crosses an edge');
      assert.ok(spans.every((s) => s.end - s.begin < SPAN_REACH), 'every span is shorter than the reach (exactness holds)');
    });

    test('a range starting mid-segment: the spans overlapping it, as the full rebuild has them', async () => {
      const expected = reference(early);
      for (const range of [
        { begin: T0 + 61_234_567_891n, end: T0 + 125_000_000_000n },
        { begin: T0 + 20_000_000_000n, end: T0 + 20_500_000_000n },
      ]) {
        const actual = await query(range);
        assert.ok(actual.some((s) => s.begin < range.begin), 'spans begun before the range are there');
        assertSameSpans(actual, expected.filter((s) => overlaps(s, range)), `range ${range.begin - T0}`);
      }
    });

    test('the whole stream, then a late block rebuilds only its segment', async () => {
      const all = { begin: T0 - 60_000_000_000n, end: T0 + BigInt(SECONDS + 120) * 1_000_000_000n };
      assertSameSpans(await query(all), reference(early), 'before the late block');
      const before = await partitionFiles();
      await post(t.server, 'insert_block', late.body);
      assertSameSpans(await query(all), reference(blocks), 'after the late block');
      const after = await partitionFiles();
      const seg = spanSegmentOf(late.meta.begin_time).begin;
      const changed = [...after].filter(([k, v]) => before.get(k) !== v).map(([k]) => k);
      assert.deepEqual(changed.sort(), [`${seg}/open`, `${seg}/own`]);
      assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort());
    });
  });
}
