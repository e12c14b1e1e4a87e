/**
 * OpenTelemetry over OTLP/HTTP (JSON and protobuf), end to end: a logs export posted to a real server lands in `log_entries`
 * with every column mapped, one process per service instance however many exports it sends; a traces export
 * lands in `view_instance('async_events', …)` as begin and end events with parents, a metrics export in
 * `measures`; what is not an OTLP JSON export is refused with the reason and writes nothing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../src/serve.js';
import { otlpLogsToSirius } from '../../src/ingestion/otlp-logs.js';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { decodeBlock } from '@sirius/transit';
import { transitCodecs } from '../../src/lake/lz4-codec.js';

const T = 1_763_890_000_123_456_789n;
const str = (stringValue: string) => ({ stringValue });

function exportRequest(instance: string, records: object[]) {
  return {
    resourceLogs: [{
      resource: { attributes: [
        { key: 'service.name', value: str('checkout') }, { key: 'service.instance.id', value: str(instance) },
        { key: 'host.name', value: str('web-7') }, { key: 'process.pid', value: { intValue: '4242' } },
      ] },
      scopeLogs: [{ scope: { name: 'cart' }, logRecords: records }],
    }],
  };
}

describe('OTLP/HTTP logs, traces and metrics', () => {
  let server: RunningServer;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sirius-otlp-'));
    server = await startServer({ roles: ['ingestion', 'analytics'], httpPort: 0, dataDir: dir, sqlConnectionString: 'memory://', quiet: true });
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const post = (body: unknown, type = 'application/json') =>
    fetch(`${server.url}/v1/logs`, { method: 'POST', headers: { 'content-type': type }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const rows = async (sql: string) => {
    const r = await fetch(`${server.url}/api/query`, {
      method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ sql, begin: '2025-11-01T00:00:00Z', end: '2025-12-01T00:00:00Z' }),
    });
    const body = (await r.json()) as { rows?: Record<string, unknown>[]; error?: string };
    assert.equal(r.status, 200, body.error);
    return body.rows!;
  };

  test('records become log_entries rows: time, level, target, message, properties; one process per instance', async () => {
    const first = await post(exportRequest('i-1', [
      { timeUnixNano: String(T), severityNumber: 17, severityText: 'ERROR', body: str('payment declined'),
        attributes: [{ key: 'order', value: { intValue: '991' } }, { key: 'retry', value: { boolValue: true } }], traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174' },
      { timeUnixNano: String(T + 1_000_000n), severityNumber: 9, body: { kvlistValue: { values: [{ key: 'items', value: { intValue: 3 } }] } } },
      { observedTimeUnixNano: String(T + 2_000_000n), severityText: 'warn', body: str('slow cart') },
    ]));
    assert.equal(first.status, 200);
    assert.deepEqual(await first.json(), {});
    // a second export of the same instance: same process, same stream
    assert.equal((await post(exportRequest('i-1', [{ timeUnixNano: String(T + 3_000_000n), severityNumber: 5, body: str('cart saved') }]))).status, 200);
    const got = await rows(`SELECT epoch_ns(time)::VARCHAR AS t, level, target, msg, properties, exe, computer, process_id
      FROM log_entries WHERE exe = 'checkout' ORDER BY time`);
    assert.deepEqual(got.map((r) => [r.t, r.level, r.target, r.msg]), [
      [String(T), 2, 'cart', 'payment declined'],
      [String(T + 1_000_000n), 4, 'cart', '{"items":3}'],
      [String(T + 2_000_000n), 3, 'cart', 'slow cart'],
      [String(T + 3_000_000n), 5, 'cart', 'cart saved'],
    ]);
    assert.deepEqual(got[0]!.properties, { order: '991', retry: 'true', trace_id: '5b8efff798038103d269b633813fc60c', span_id: 'eee19b7ec3c1b174' });
    assert.equal(got[0]!.computer, 'web-7');
    assert.equal(new Set(got.map((r) => r.process_id)).size, 1, 'one process for the instance');
    const procs = await rows(`SELECT exe, computer, properties FROM processes WHERE exe = 'checkout'`);
    assert.equal(procs.length, 1);
    assert.equal((procs[0]!.properties as Record<string, string>)['service.instance.id'], 'i-1');
    // another instance of the service is another process
    assert.equal((await post(exportRequest('i-2', [{ timeUnixNano: String(T), body: str('hello') }]))).status, 200);
    assert.equal((await rows(`SELECT DISTINCT process_id FROM log_entries WHERE exe = 'checkout'`)).length, 2);
  });

  test('garbage protobuf, another content type, non-OTLP JSON and bad times are refused with the reason, and write nothing', async () => {
    const count = async () => Number((await rows('SELECT count(*) AS n FROM blocks'))[0]!.n);
    const before = await count();
    const garbage = await fetch(`${server.url}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: Uint8Array.from([0x0a, 0xff, 0xff, 0x01]) });
    assert.equal(garbage.status, 400);
    assert.match(((await garbage.json()) as { error: string }).error, /not a protobuf ExportLogsServiceRequest/);
    const text = await post('resourceLogs', 'text/plain');
    assert.equal(text.status, 415);
    assert.match(((await text.json()) as { error: string }).error, /application\/x-protobuf or application\/json/);
    const notOtlp = await post({ logs: [] });
    assert.equal(notOtlp.status, 400);
    assert.match(((await notOtlp.json()) as { error: string }).error, /ExportLogsServiceRequest/);
    const badTime = await post(exportRequest('i-3', [{ timeUnixNano: 'yesterday', body: str('x') }]));
    assert.equal(badTime.status, 400);
    assert.match(((await badTime.json()) as { error: string }).error, /bad time "yesterday"/);
    assert.equal((await post('{"resourceLogs": [', 'application/json')).status, 400);
    assert.equal(await count(), before);
  });

  test('spans become async spans of the service instance\'s process: begin and end, parent, depth', async () => {
    const span = (spanId: string, parentSpanId: string, name: string, start: bigint, end: bigint) =>
      ({ traceId: '5b8efff798038103d269b633813fc60c', spanId, parentSpanId, name, startTimeUnixNano: String(start), endTimeUnixNano: String(end), kind: 2 });
    const body = {
      resourceSpans: [{
        resource: exportRequest('i-9', []).resourceLogs[0]!.resource,
        scopeSpans: [{ scope: { name: 'http' }, spans: [
          span('00000000000000a1', '', 'GET /cart', T, T + 9_000_000n),
          span('00000000000000b2', '00000000000000a1', 'db.query', T + 1_000_000n, T + 4_000_000n),
          span('00000000000000c3', '00000000000000b2', 'pool.acquire', T + 1_500_000n, T + 2_000_000n),
        ] }],
      }],
    };
    const r = await fetch(`${server.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(r.status, 200, await r.clone().text());
    const [proc] = await rows(`SELECT process_id FROM processes WHERE properties['service.instance.id'] = 'i-9'`);
    assert.ok(proc, 'the process of instance i-9');
    const events = await rows(`SELECT epoch_ns(time)::VARCHAR AS t, event_type, name, target, depth, span_id, parent_span_id
      FROM view_instance('async_events', '${String(proc.process_id)}') ORDER BY time, event_type DESC`);
    assert.deepEqual(events.map((e) => [e.t, e.event_type, e.name, e.target, e.depth]), [
      [String(T), 'begin', 'GET /cart', 'http', 0],
      [String(T + 1_000_000n), 'begin', 'db.query', 'http', 1],
      [String(T + 1_500_000n), 'begin', 'pool.acquire', 'http', 2],
      [String(T + 2_000_000n), 'end', 'pool.acquire', 'http', 2],
      [String(T + 4_000_000n), 'end', 'db.query', 'http', 1],
      [String(T + 9_000_000n), 'end', 'GET /cart', 'http', 0],
    ]);
    assert.deepEqual(events.slice(0, 3).map((e) => [Number(e.span_id), Number(e.parent_span_id)]), [[0xa1, 0], [0xb2, 0xa1], [0xc3, 0xb2]]);
    const bad = await fetch(`${server.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ spanId: 'zz', name: 'x', startTimeUnixNano: '1', endTimeUnixNano: '2' }] }] }] }) });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /bad spanId "zz"/);
  });

  test('gauge and sum points become measures; a histogram its count and sum', async () => {
    const point = (t: bigint, v: object, attrs: object[] = []) => ({ timeUnixNano: String(t), attributes: attrs, ...v });
    const body = {
      resourceMetrics: [{
        resource: exportRequest('i-5', []).resourceLogs[0]!.resource,
        scopeMetrics: [{ scope: { name: 'runtime' }, metrics: [
          { name: 'heap.used', unit: 'By', gauge: { dataPoints: [point(T, { asInt: '1048576' }), point(T + 1_000_000n, { asInt: 2097152 })] } },
          { name: 'requests', unit: '1', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [point(T, { asDouble: 12.5 }, [{ key: 'route', value: str('/cart') }])] } },
          { name: 'latency', unit: 'ms', histogram: { dataPoints: [point(T + 2_000_000n, { count: '4', sum: 37.5, bucketCounts: ['1', '3'], explicitBounds: [10] })] } },
        ] }],
      }],
    };
    const r = await fetch(`${server.url}/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(r.status, 200, await r.clone().text());
    const got = await rows(`SELECT epoch_ns(time)::VARCHAR AS t, name, unit, target, value, properties FROM measures
      WHERE process_id IN (SELECT process_id FROM processes WHERE properties['service.instance.id'] = 'i-5') ORDER BY time, name`);
    assert.deepEqual(got.map((m) => [m.t, m.name, m.unit, m.target, m.value]), [
      [String(T), 'heap.used', 'By', 'runtime', 1048576],
      [String(T), 'requests', '1', 'runtime', 12.5],
      [String(T + 1_000_000n), 'heap.used', 'By', 'runtime', 2097152],
      [String(T + 2_000_000n), 'latency.count', 'count', 'runtime', 4],
      [String(T + 2_000_000n), 'latency.sum', 'ms', 'runtime', 37.5],
    ]);
    assert.deepEqual(got[1]!.properties, { route: '/cart' });
  });

  test('the protobuf encoding (what exporters send by default) gives the same rows as JSON', async () => {
    const root = protobuf.loadSync(fileURLToPath(new URL('../../src/ingestion/proto/otlp.proto', import.meta.url)));
    const encode = (type: string, value: object) => {
      const t = root.lookupType(`sirius.otlp.${type}`);
      return t.encode(t.fromObject(value)).finish();
    };
    const hex = (h: string) => Buffer.from(h, 'hex');
    const resource = { attributes: [{ key: 'service.name', value: { stringValue: 'billing' } }, { key: 'service.instance.id', value: { stringValue: 'pb-1' } }] };
    const send = async (signal: string, bytes: Uint8Array) => {
      const r = await fetch(`${server.url}/v1/${signal}`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.from(bytes) });
      assert.equal(r.status, 200, await r.clone().text());
      assert.equal(r.headers.get('content-type'), 'application/x-protobuf');
      assert.equal((await r.arrayBuffer()).byteLength, 0, 'an empty response message');
    };
    await send('logs', encode('ExportLogsServiceRequest', { resourceLogs: [{ resource, scopeLogs: [{ scope: { name: 'invoice' }, logRecords: [
      { timeUnixNano: String(T), severityNumber: 13, body: { stringValue: 'late payment' }, attributes: [{ key: 'n', value: { intValue: '7' } }], traceId: hex('5b8efff798038103d269b633813fc60c'), spanId: hex('eee19b7ec3c1b174') },
    ] }] }] }));
    await send('traces', encode('ExportTraceServiceRequest', { resourceSpans: [{ resource, scopeSpans: [{ scope: { name: 'rpc' }, spans: [
      { spanId: hex('00000000000000d4'), name: 'Charge', startTimeUnixNano: String(T), endTimeUnixNano: String(T + 5_000_000n) },
    ] }] }] }));
    await send('metrics', encode('ExportMetricsServiceRequest', { resourceMetrics: [{ resource, scopeMetrics: [{ scope: { name: 'rt' }, metrics: [
      { name: 'queue', unit: '1', gauge: { dataPoints: [{ timeUnixNano: String(T), asInt: '-3' }] } },
    ] }] }] }));
    const [log] = await rows(`SELECT level, target, msg, properties, process_id FROM log_entries WHERE exe = 'billing'`);
    assert.deepEqual([log!.level, log!.target, log!.msg], [3, 'invoice', 'late payment']);
    assert.deepEqual(log!.properties, { n: '7', trace_id: '5b8efff798038103d269b633813fc60c', span_id: 'eee19b7ec3c1b174' });
    const spans = await rows(`SELECT event_type, name, span_id FROM view_instance('async_events', '${String(log!.process_id)}') ORDER BY time`);
    assert.deepEqual(spans.map((s) => [s.event_type, s.name, Number(s.span_id)]), [['begin', 'Charge', 0xd4], ['end', 'Charge', 0xd4]]);
    const [m] = await rows(`SELECT name, value FROM measures WHERE process_id = '${String(log!.process_id)}'`);
    assert.deepEqual([m!.name, m!.value], ['queue', -3]);
  });

  test('ingestion keys guard /v1/logs too', async () => {
    const keyed = await startServer({ roles: ['ingestion'], httpPort: 0, dataDir: join(dir, 'keyed'), sqlConnectionString: 'memory://', quiet: true, ingestionKeys: ['otlp-key'] });
    try {
      const send = (auth?: string) => fetch(`${keyed.url}/v1/logs`, {
        method: 'POST', headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
        body: JSON.stringify(exportRequest('k', [{ timeUnixNano: String(T), body: str('m') }])),
      });
      assert.equal((await send()).status, 401);
      assert.equal((await send('Bearer otlp-key')).status, 200);
    } finally {
      await keyed.close();
    }
  });

  test('severity numbers map in fours onto Sirius levels, else the text; an empty export stores nothing', () => {
    const levelOf = (record: object) => {
      const { blocks } = otlpLogsToSirius(exportRequest('x', [{ timeUnixNano: String(T), body: str('m'), ...record }]));
      const [event] = decodeBlock(blocks[0]!, transitCodecs).events;
      return (event as { level: number }).level;
    };
    // TRACE 1-4, DEBUG 5-8, INFO 9-12, WARN 13-16, ERROR 17-20, FATAL 21-24
    assert.deepEqual([1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24].map((n) => levelOf({ severityNumber: n })), [6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1]);
    assert.deepEqual(['Critical', 'warning', 'DEBUG', 'whatever', ''].map((t) => levelOf({ severityText: t })), [1, 3, 5, 4, 4]);
    assert.deepEqual(otlpLogsToSirius({ resourceLogs: [] }), { processes: [], streams: [], blocks: [], records: 0 });
  });
});
