/**
 * The bridges end to end: a child program logging through the real pino, winston, console and OpenTelemetry
 * SDK (`@opentelemetry/sdk-trace-base`, `@opentelemetry/sdk-logs`) feeds a real server through
 * `@sirius/tracing/{pino,winston,console,opentelemetry}`; what it sent is queried back with SQL
 * (`log_entries`, `view_instance('async_events', …)`) over HTTP.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { startServer, type RunningServer } from '@sirius/server';
import { pinoLevel } from '../src/bridges/pino.js';
import { winstonLevel } from '../src/bridges/winston.js';
import { otelLevel } from '../src/bridges/opentelemetry.js';

const CHILD = fileURLToPath(new URL('./fixtures/bridges-child.ts', import.meta.url));

test('level mappings', () => {
  assert.deepEqual([10, 20, 30, 40, 50, 60, 35, 5, 70, undefined].map(pinoLevel), [6, 5, 4, 3, 2, 1, 4, 6, 1, 4]);
  assert.deepEqual(['silly', 'debug', 'verbose', 'http', 'info', 'notice', 'warn', 'warning', 'error', 'crit', 'emerg', 'custom'].map(winstonLevel),
    [6, 5, 5, 4, 4, 4, 3, 3, 2, 1, 1, 4]);
  assert.deepEqual([1, 4, 5, 9, 13, 17, 20, 21, 24].map((n) => otelLevel(n, undefined)), [6, 6, 5, 4, 3, 2, 2, 1, 1]);
  assert.deepEqual([otelLevel(undefined, 'WARNING'), otelLevel(0, 'fatal'), otelLevel(undefined, 'odd'), otelLevel(undefined, undefined)], [3, 1, 4, 4]);
});

describe('bridges into a real server', () => {
  let server: RunningServer;
  let dir: string;
  type Row = { target: string; level: number; msg: string; properties: Record<string, string> | null };
  let logs: Row[];
  let processId: string;

  const query = async (sql: string) => {
    const r = await fetch(`${server.url}/api/query`, {
      method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ sql, begin: '1d', end: 'now' }),
    });
    const body = (await r.json()) as { rows?: Record<string, unknown>[]; error?: string };
    assert.equal(r.status, 200, body.error);
    return body.rows!;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sirius-bridges-'));
    server = await startServer({ httpPort: 0, dataDir: dir, sqlConnectionString: 'memory://', objectStoreUri: 'memory://', roles: ['ingestion', 'analytics'], quiet: true });
    const proc = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: { ...process.env, SIRIUS_TELEMETRY_URL: server.url }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    const code = await new Promise<number | null>((r) => proc.on('exit', r));
    assert.equal(code, 0, err);
    assert.match(out, /"step":"done","ok":true/, err);
    assert.doesNotMatch(out + err, /c-log|c-error/, 'print: false keeps captured lines off the console');
    assert.match(out, /c-after-release/, 'released: the console prints as before');
    logs = (await query(`SELECT target, level, msg, properties FROM log_entries WHERE exe = 'tracing-bridges-child' ORDER BY time`)) as Row[];
    processId = (await query(`SELECT process_id FROM processes WHERE exe = 'tracing-bridges-child'`))[0]!.process_id as string;
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const of = (target: string) => logs.filter((l) => l.target === target);
  const pairs = (rows: Row[]) => rows.map((r) => JSON.stringify([r.level, r.msg])).sort();
  const sameLines = (rows: Row[], want: [number, string][]) => assert.deepEqual(pairs(rows), want.map((w) => JSON.stringify(w)).sort());
  const byMsg = (rows: Row[], msg: string) => rows.find((r) => r.msg === msg)!;

  test('pino: levels, message, logger name as target, fields and bindings as properties', () => {
    const rows = of('shop');
    sameLines(rows, [[6, 'p-trace'], [5, 'p-debug'], [4, 'p-info'], [3, 'p-warn'], [2, 'p-error'], [1, 'p-fatal']]);
    assert.deepEqual(byMsg(rows, 'p-trace').properties, null);
    assert.deepEqual(byMsg(rows, 'p-info').properties, { user: 'ada', n: '3', ok: 'true' });
    const e = byMsg(rows, 'p-error').properties!;
    assert.equal(e.req, 'r-1', 'a child logger\'s binding');
    assert.match(e.err!, /"message":"boom"/);
    sameLines(of('plain-pino'), [[4, 'p-no-options']]);
  });

  test('winston: levels, message, metadata and defaultMeta as properties', () => {
    const rows = of('billing');
    sameLines(rows, [[2, 'w-error'], [3, 'w-warn'], [4, 'w-info'], [4, 'w-http'], [5, 'w-verbose'], [5, 'w-debug'], [6, 'w-silly']]);
    assert.deepEqual(byMsg(rows, 'w-error').properties, { service: 'billing-api', invoice: '42' });
    assert.deepEqual(byMsg(rows, 'w-warn').properties, { service: 'billing-api' });
  });

  test('console: formatted lines at their levels, nothing after release', () => {
    sameLines(of('console'), [
      [4, 'c-log x=7'], [4, 'c-info'], [3, 'c-warn { a: 1 }'], [2, 'c-error'], [5, 'c-debug'], [6, 'c-trace'],
    ]);
  });

  test('OpenTelemetry log records: severity, body, scope, attributes, trace context', () => {
    const rows = of('otel-logs');
    sameLines(rows, [[3, 'o-warn'], [2, '{"code":7}'], [5, 'o-text-debug']]);
    const warn = byMsg(rows, 'o-warn').properties!;
    assert.equal(warn.items, '3');
    assert.match(warn.trace_id!, /^[0-9a-f]{32}$/);
    assert.match(warn.span_id!, /^[0-9a-f]{16}$/);
    assert.equal(byMsg(rows, '{"code":7}').properties, null);
    assert.deepEqual(byMsg(rows, 'o-text-debug').properties, { event_name: 'cart.saved' });
  });

  test('OpenTelemetry spans: async spans with their parents, and a log per span with its attributes', async () => {
    const events = await query(`SELECT name, target, event_type, span_id, parent_span_id
      FROM view_instance('async_events', '${processId}') ORDER BY time, event_type`);
    const begins = new Map(events.filter((e) => e.event_type === 'begin').map((e) => [e.name as string, e]));
    assert.deepEqual([...begins.keys()].sort(), ['charge-card', 'handle-order', 'load-cart']);
    assert.equal(events.filter((e) => e.event_type === 'end').length, 3);
    assert.ok(events.every((e) => e.target === 'checkout-scope'));
    const root = begins.get('handle-order')!;
    assert.equal(Number(root.parent_span_id), 0);
    assert.equal(begins.get('load-cart')!.parent_span_id, root.span_id);
    assert.equal(begins.get('charge-card')!.parent_span_id, root.span_id);

    const spanLogs = of('checkout-scope');
    sameLines(spanLogs, [[5, 'load-cart'], [2, 'charge-card'], [5, 'handle-order']]);
    const order = byMsg(spanLogs, 'handle-order').properties!;
    const charge = byMsg(spanLogs, 'charge-card').properties!;
    const cart = byMsg(spanLogs, 'load-cart').properties!;
    assert.equal(order['order.id'], '991');
    assert.equal(order['http.route'], '/orders/:id');
    assert.equal(order.span_kind, 'internal');
    assert.equal(order.sirius_span_id, String(root.span_id), 'joins async_events.span_id');
    assert.equal(charge.status_message, 'declined');
    assert.equal(charge.amount, '12.5');
    assert.equal(cart.trace_id, order.trace_id, 'one trace');
    assert.equal(cart.sirius_span_id, String(begins.get('load-cart')!.span_id));
    assert.equal(byMsg(of('otel-logs'), 'o-warn').properties!.span_id, cart.span_id, 'the log emitted inside load-cart names it');
  });
});
