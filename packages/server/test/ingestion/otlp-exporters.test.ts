/**
 * The official OpenTelemetry JS SDKs and OTLP/HTTP exporters, unchanged, against a real server: protobuf and
 * JSON, gzip on and off, on `/v1/…` and on the seed system's `/ingestion/otlp/v1/…`. Every log record, span
 * and metric data point arrives exactly once, read back with SQL (`log_entries`, `otel_spans`, `measures`).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SeverityNumber } from '@opentelemetry/api-logs';
import type { RunningServer } from '../../src/serve.js';
import { pgBackends } from '../support/pg.js';
import { useIngestionServer } from './fixtures.js';
import {
  logExporter, loggerProvider, meterProvider, metricExporter, OnDemandReader, spanExporter, tracerProvider,
  type Compression, type ExportLog, type Format,
} from './otel-sdk.js';

const SPANS = 40;
const LOGS = 50;
const POINTS = 12;
const CASES: { format: Format; compression: Compression; path: string }[] = [
  { format: 'protobuf', compression: 'gzip', path: '/v1' },
  { format: 'protobuf', compression: 'none', path: '/ingestion/otlp/v1' },
  { format: 'json', compression: 'gzip', path: '/ingestion/otlp/v1' },
  { format: 'json', compression: 'none', path: '/v1' },
];

for (const backend of pgBackends) {
  describe(`OpenTelemetry JS exporters into Sirius (${backend.name})`, { skip: backend.skip }, () => {
    let server: RunningServer;
    const started = Date.now();
    useIngestionServer(backend, 'sirius-otel-exporters-', () => ({ roles: ['ingestion', 'analytics'] }), (s) => (server = s));

    const rows = async (sql: string) => {
      const r = await fetch(`${server.url}/api/query`, {
        method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ sql, begin: new Date(started - 3_600_000).toISOString(), end: new Date(Date.now() + 3_600_000).toISOString() }),
      });
      const body = (await r.json()) as { rows?: Record<string, unknown>[]; error?: string };
      assert.equal(r.status, 200, body.error);
      return body.rows!;
    };
    const accepted = (what: string, log: ExportLog) => {
      assert.ok(log.results.length > 0, `${what}: nothing was exported`);
      for (const r of log.results) assert.equal(r.code, 0, `${what}: export failed: ${r.error?.message}`);
    };

    for (const c of CASES) {
      const service = `svc-${c.format}-${c.compression}`;
      test(`${c.format}, compression ${c.compression}, ${c.path}: every span, log and point exactly once`, async () => {
        const target = { base: `${server.url}${c.path}`, format: c.format, compression: c.compression };

        const spansLog: ExportLog = { results: [] };
        const tracer = tracerProvider(service, spanExporter(target, spansLog));
        const sent: string[] = [];
        const root = tracer.getTracer('checkout').startSpan('GET /cart', { attributes: { 'http.method': 'GET' } });
        sent.push(root.spanContext().spanId);
        for (let i = 1; i < SPANS; i++) {
          const s = tracer.getTracer('checkout').startSpan(`step ${i}`, { attributes: { i } });
          sent.push(s.spanContext().spanId);
          s.end();
        }
        root.end();
        await tracer.forceFlush();
        await tracer.shutdown();
        accepted('traces', spansLog);

        const logsLog: ExportLog = { results: [] };
        const logger = loggerProvider(service, logExporter(target, logsLog));
        for (let i = 0; i < LOGS; i++) logger.getLogger('cart').emit({ body: `line ${i}`, severityNumber: SeverityNumber.WARN, attributes: { i } });
        await logger.forceFlush();
        await logger.shutdown();
        accepted('logs', logsLog);

        const pointsLog: ExportLog = { results: [] };
        const reader = new OnDemandReader(metricExporter(target, pointsLog));
        const meters = meterProvider(service, reader);
        const counter = meters.getMeter('cart').createCounter('items_added');
        for (let i = 0; i < POINTS; i++) counter.add(i + 1, { slot: String(i) });
        await reader.exportOnce();
        await meters.shutdown();
        accepted('metrics', pointsLog);

        const spans = await rows(`SELECT span_id, parent_span_id, name, target FROM otel_spans WHERE exe = '${service}'`);
        assert.deepEqual(spans.map((s) => s.span_id).sort(), [...sent].sort(), 'each span once, ids kept');
        assert.equal(spans.find((s) => s.name === 'GET /cart')?.target, 'checkout');

        const logs = await rows(`SELECT msg, level, properties['i'] AS i FROM log_entries WHERE exe = '${service}' ORDER BY msg`);
        assert.deepEqual(logs.map((l) => l.msg).sort(), Array.from({ length: LOGS }, (_, i) => `line ${i}`).sort(), 'each record once');
        assert.ok(logs.every((l) => l.level === 3), 'WARN → level 3');

        const points = await rows(`SELECT properties['slot'] AS slot, value FROM measures WHERE exe = '${service}' AND name = 'items_added'`);
        assert.deepEqual(
          points.map((p): [number, unknown] => [Number(p.slot), p.value]).sort((a, b) => a[0] - b[0]),
          Array.from({ length: POINTS }, (_, i) => [i, i + 1]),
          'each data point once',
        );
      });
    }
  });
}
