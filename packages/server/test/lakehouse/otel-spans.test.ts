/**
 * OpenTelemetry traces as traces: two services (two OTel resources, two exporters: protobuf with gzip and
 * JSON without) take part in one trace; the daemon materializes their spans into `otel_spans` partitions, and
 * one SQL query on the trace id returns the whole tree across both processes with parents, kinds, status,
 * attributes, events and links as the SDKs recorded them.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { RunningServer } from '../../src/serve.js';
import { pgBackends } from '../support/pg.js';
import { useIngestionServer } from '../ingestion/fixtures.js';
import { spanExporter, tracerProvider, type ExportLog } from '../ingestion/otel-sdk.js';

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

for (const backend of pgBackends) {
  describe(`otel_spans: one trace across services (${backend.name})`, { skip: backend.skip }, () => {
    let server: RunningServer;
    const started = Date.now();
    useIngestionServer(backend, 'sirius-otel-spans-', () => ({ roles: ['ingestion', 'daemon', 'analytics'] }), (s) => (server = s));

    const rows = async (sql: string) => {
      const r = await fetch(`${server.url}/api/query`, {
        method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ sql, begin: new Date(started - 3_600_000).toISOString(), end: new Date(Date.now() + 3_600_000).toISOString() }),
      });
      const body = (await r.json()) as { rows?: Record<string, unknown>[]; error?: string };
      assert.equal(r.status, 200, body.error);
      return body.rows!;
    };

    test('the daemon materializes both services\' spans; the trace comes back whole with its tree', async () => {
      const frontLog: ExportLog = { results: [] };
      const payLog: ExportLog = { results: [] };
      const front = tracerProvider('web-frontend', spanExporter({ base: `${server.url}/v1`, format: 'protobuf', compression: 'gzip' }, frontLog));
      const pay = tracerProvider('payments', spanExporter({ base: `${server.url}/ingestion/otlp/v1`, format: 'json', compression: 'none' }, payLog));
      const ft = front.getTracer('http-server');
      const pt = pay.getTracer('charge-api');
      const under = (s: Span) => trace.setSpan(ROOT_CONTEXT, s);
      // explicit times (ms): spans started within one clock tick would otherwise tie
      const t0 = Date.now() - 1000;

      const root = ft.startSpan('GET /checkout', { kind: SpanKind.SERVER, attributes: { 'http.route': '/checkout' }, startTime: t0 }, ROOT_CONTEXT);
      const call = ft.startSpan('POST payments', { kind: SpanKind.CLIENT, startTime: t0 + 10 }, under(root));
      // the payments service continues the trace from the propagated context of the client span
      const remote = trace.setSpanContext(ROOT_CONTEXT, { ...call.spanContext(), isRemote: true });
      const other = ft.startSpan('unrelated', { startTime: t0 + 5 }, ROOT_CONTEXT);
      const charge = pt.startSpan('POST /charge', { kind: SpanKind.SERVER, links: [{ context: other.spanContext(), attributes: { why: 'batched' } }], startTime: t0 + 20 }, remote);
      const db = pt.startSpan('db.query', { kind: SpanKind.INTERNAL, attributes: { 'db.system': 'postgresql', rows: 3 }, startTime: t0 + 30 }, under(charge));
      db.addEvent('retry', { attempt: 2 }, t0 + 35);
      db.setStatus({ code: SpanStatusCode.ERROR, message: 'deadlock detected' });
      [db, charge, call, root, other].forEach((s, i) => s.end(t0 + 40 + 10 * i));
      for (const p of [front, pay]) {
        await p.forceFlush();
        await p.shutdown();
      }
      for (const [what, log] of [['frontend', frontLog], ['payments', payLog]] as const) {
        assert.ok(log.results.length > 0 && log.results.every((r) => r.code === 0), `${what}: ${log.results.map((r) => r.error?.message).join(', ')}`);
      }

      // materialized by the daemon, not only read from the unmaterialized tail
      await until('otel_spans partitions holding the five spans', async () => {
        const [r] = await server.lake.sql.query<{ n: string }>(`SELECT coalesce(sum(num_rows), 0) AS n FROM lakehouse_partitions WHERE view_set = 'otel_spans'`);
        return Number(r!.n) >= 5 ? true : undefined;
      });

      const traceId = root.spanContext().traceId;
      const spans = await rows(`SELECT exe, service_name, process_id, trace_id, span_id, parent_span_id, name, target, kind, status_code, status_message,
          epoch_ns(begin)::VARCHAR AS b, epoch_ns("end")::VARCHAR AS e, duration, attributes, events, links
        FROM otel_spans WHERE trace_id = '${traceId}' ORDER BY begin, name`);
      const id = (s: Span) => s.spanContext().spanId;
      assert.deepEqual(
        spans.map((s) => [s.exe, s.name, s.span_id, s.parent_span_id, s.kind, s.target]),
        [
          ['web-frontend', 'GET /checkout', id(root), '', 'server', 'http-server'],
          ['web-frontend', 'POST payments', id(call), id(root), 'client', 'http-server'],
          ['payments', 'POST /charge', id(charge), id(call), 'server', 'charge-api'],
          ['payments', 'db.query', id(db), id(charge), 'internal', 'charge-api'],
        ],
      );
      assert.equal(new Set(spans.map((s) => s.process_id)).size, 2, 'two processes, one per service');
      assert.deepEqual(spans.map((s) => s.service_name), ['web-frontend', 'web-frontend', 'payments', 'payments']);
      const dbRow = spans[3]!;
      assert.deepEqual([dbRow.status_code, dbRow.status_message], ['error', 'deadlock detected']);
      assert.equal(spans[0]!.status_code, 'unset');
      assert.deepEqual(dbRow.attributes, { 'db.system': 'postgresql', rows: '3' });
      const [event] = JSON.parse(dbRow.events as string) as { name: string; attributes: Record<string, string>; time: string }[];
      assert.deepEqual([event!.name, event!.attributes], ['retry', { attempt: '2' }]);
      assert.ok(BigInt(event!.time) >= BigInt(dbRow.b as string) && BigInt(event!.time) <= BigInt(dbRow.e as string), 'the event lies within its span');
      assert.deepEqual(JSON.parse(spans[2]!.links as string), [{ trace_id: other.spanContext().traceId, span_id: id(other), trace_state: '', attributes: { why: 'batched' } }]);
      for (const s of spans) assert.equal(BigInt(s.duration as number | string), BigInt(s.e as string) - BigInt(s.b as string));

      // the span not in the trace is there too, under its own trace id
      const [unrelated] = await rows(`SELECT trace_id, parent_span_id FROM otel_spans WHERE span_id = '${id(other)}'`);
      assert.deepEqual(unrelated, { trace_id: other.spanContext().traceId, parent_span_id: '' });
    });
  });
}
