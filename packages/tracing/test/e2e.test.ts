/**
 * End to end: a child process using only the public API sends known logs, metrics, thread spans and async
 * spans to a real server on loopback; every event must come back exactly once, with its values, from the
 * `blocks` rows and their objects. Runs on every lake target (PGlite / PostgreSQL × file / S3).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startServer, type RunningServer } from '@sirius/server';
import { knownAsyncSpans, knownLogs, knownMetrics, knownThreadSpans, workerSpanCount } from './fixtures/expected.js';
import { runChild } from './support/child-process.js';
import { lakeTargets } from './support/lake-targets.js';
import { blocksWithoutObject, readStreams, type StoredStream } from './support/read-lake.js';

const N = 300;

for (const target of lakeTargets) {
  describe(`tracing end to end (${target.name})`, { skip: target.skip }, () => {
    let server: RunningServer;
    let cleanup: () => Promise<void> = async () => {};
    let streams: StoredStream[];

    before(async () => {
      const lake = await target.open();
      cleanup = lake.cleanup;
      server = await startServer({ httpPort: 0, dataDir: lake.dataDir, sqlConnectionString: lake.sqlConnectionString, objectStoreUri: lake.objectStoreUri, roles: ['ingestion'], quiet: true });
      const child = runChild({ SIRIUS_TELEMETRY_URL: server.url, CHILD_MODE: 'known', CHILD_N: String(N) });
      const done = await child.step('done');
      assert.equal(done.ok, true, child.stderr());
      assert.equal(await child.exited, 0, child.stderr());
      streams = await readStreams(server.lake);
    });
    after(async () => {
      await server?.close();
      await cleanup();
    });

    const byTag = (tag: string): StoredStream[] => streams.filter((s) => s.tags.includes(tag));

    test('one process with its info, one log and one metrics stream, one cpu stream per thread', async () => {
      const procs = await server.lake.sql.query<{ process_id: string; exe: string; tsc_frequency: unknown; properties: Record<string, string> }>(
        'SELECT process_id, exe, tsc_frequency, properties FROM processes',
      );
      assert.equal(procs.length, 1);
      assert.equal(procs[0]!.exe, 'tracing-e2e-child');
      assert.equal(Number(procs[0]!.tsc_frequency), 1e9);
      assert.equal(procs[0]!.properties.mode, 'known');
      assert.equal(byTag('log').length, 1);
      assert.equal(byTag('metrics').length, 1);
      const cpu = byTag('cpu').map((s) => s.properties.thread_name).sort();
      assert.equal(cpu.length, 2);
      assert.equal(cpu[0], 'main');
      assert.match(cpu[1]!, /^worker-\d+$/);
      assert.deepEqual(await blocksWithoutObject(server.lake), []);
    });

    test('every log exactly once with level, target, message and properties', () => {
      const got = byTag('log')[0]!.events.map((e) => {
        assert.equal(e.kind, 'log');
        return e.kind === 'log' ? JSON.stringify([e.level, e.target, e.msg, e.properties]) : '';
      });
      const want = knownLogs(N).map((l) => JSON.stringify([l.level, l.target, l.msg, l.properties]));
      want.push(JSON.stringify([4, 'e2e/worker', 'worker done', null]));
      assert.deepEqual(got.sort(), want.sort());
    });

    test('every metric exactly once, with its value; no drops reported', () => {
      const got = byTag('metrics')[0]!.events.map((e) => {
        if (e.kind === 'int_metric') return JSON.stringify(['int', e.name, e.unit, e.target, Number(e.value)]);
        if (e.kind === 'float_metric') return JSON.stringify(['float', e.name, e.unit, e.target, e.value]);
        throw new Error(`unexpected ${e.kind} in the metrics stream`);
      });
      const want = knownMetrics(N).map((m) => JSON.stringify([m.kind, m.name, m.unit, m.target, m.value]));
      assert.deepEqual(got.sort(), want.sort());
    });

    test('thread spans in order, nested, with their options, and time never goes back', () => {
      const main = byTag('cpu').find((s) => s.properties.thread_name === 'main')!;
      const thread = main.events.filter((e) => e.kind === 'begin_thread_span' || e.kind === 'end_thread_span');
      assert.deepEqual(
        thread.map((e) => ({ kind: e.kind, name: (e as { name: string }).name })),
        knownThreadSpans(N),
      );
      const inner = thread.find((e) => (e as { name: string }).name === 'inner') as { target: string; filename: string; line: number };
      assert.deepEqual([inner.target, inner.filename, inner.line], ['e2e', 'child.ts', 42]);
      for (let i = 1; i < main.events.length; i++) assert.ok(main.events[i]!.abs >= main.events[i - 1]!.abs, `event ${i} goes back in time`);
      const worker = byTag('cpu').find((s) => s.properties.thread_name !== 'main')!;
      assert.equal(worker.events.length, 2 * workerSpanCount(N));
      assert.ok(worker.events.every((e) => (e as { name: string }).name === 'worker-task'));
    });

    test('async spans: begin and end once each, parents tracked across awaits', () => {
      const main = byTag('cpu').find((s) => s.properties.thread_name === 'main')!;
      type A = { kind: string; span_id: number; parent_span_id: number; name: string; abs: number };
      const asyncEvents = main.events.filter((e) => e.kind === 'begin_async_span' || e.kind === 'end_async_span') as unknown as A[];
      const spans = new Map<number, { name: string; parent: number; begins: number; ends: number }>();
      for (const e of asyncEvents) {
        const s = spans.get(e.span_id) ?? { name: e.name, parent: e.parent_span_id, begins: 0, ends: 0 };
        if (e.kind === 'begin_async_span') s.begins++;
        else s.ends++;
        assert.equal(s.parent, e.parent_span_id);
        spans.set(e.span_id, s);
      }
      const outers = [...spans.entries()].filter(([, s]) => s.name === 'a-outer');
      assert.equal(outers.length, knownAsyncSpans(N).length);
      assert.equal(spans.size, 3 * outers.length);
      for (const [id, s] of spans) {
        assert.equal(s.begins, 1);
        assert.equal(s.ends, 1);
        if (s.name === 'a-outer') assert.equal(s.parent, 0);
        else assert.equal(spans.get(s.parent)?.name, 'a-outer', `${s.name} ${id} has parent ${s.parent}`);
      }
    });
  });
}
