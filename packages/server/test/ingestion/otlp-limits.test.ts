/**
 * OTLP/HTTP under attack, over real HTTP against both SQL backends: a request cannot fan out into thousands of
 * blocks (resources of one instance share a block; too many resources, distinct instances or events are
 * refused), malformed input of every kind answers 4xx (never 500, which exporters retry forever) and leaves
 * the server healthy, a request is stored whole or not at all, and a re-sent request stores nothing twice.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import type { RunningServer } from '../../src/serve.js';
import { pgBackends } from '../support/pg.js';
import { useIngestionServer } from './fixtures.js';

const T = 1_763_890_000_123_456_789n;
const root = protobuf.loadSync(fileURLToPath(new URL('../../src/ingestion/proto/otlp.proto', import.meta.url)));
const encode = (type: string, value: object) => {
  const t = root.lookupType(`sirius.otlp.${type}`);
  return t.encode(t.fromObject(value)).finish();
};

const resource = (instance: string) => ({ attributes: [{ key: 'service.name', value: { stringValue: 'amp' } }, { key: 'service.instance.id', value: { stringValue: instance } }] });
const record = (i: number, msg = `m${i}`) => ({ timeUnixNano: String(T + BigInt(i)), severityNumber: 9, body: { stringValue: msg } });
const logs = (resources: { instance: string; records: object[] }[]) => ({
  resourceLogs: resources.map((r) => ({ resource: resource(r.instance), scopeLogs: [{ scope: { name: 's' }, logRecords: r.records }] })),
});

/** a seeded generator (mulberry32): the fuzz cases are the same on every run */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]! };
}

for (const backend of pgBackends) {
  describe(`OTLP amplification, malformed input, all or nothing, retries (${backend.name})`, { skip: backend.skip }, () => {
    let server: RunningServer;
    useIngestionServer(backend, 'sirius-otlp-limits-', () => ({}), (s) => (server = s));

    const post = (signal: string, body: unknown, type = 'application/json') =>
      fetch(`${server.url}/v1/${signal}`, {
        method: 'POST', headers: { 'content-type': type },
        body: body instanceof Uint8Array ? Buffer.from(body) : typeof body === 'string' ? body : JSON.stringify(body),
      });
    const one = async (sql: string, params: unknown[] = []) => Number((await server.lake.sql.query<{ n: string }>(sql, params))[0]!.n);
    const counts = async (exe = 'amp') => ({
      processes: await one(`SELECT count(*) AS n FROM processes WHERE exe = $1`, [exe]),
      streams: await one(`SELECT count(*) AS n FROM streams s JOIN processes p USING (process_id) WHERE p.exe = $1`, [exe]),
      blocks: await one(`SELECT count(*) AS n FROM blocks b JOIN processes p USING (process_id) WHERE p.exe = $1`, [exe]),
      events: await one(`SELECT coalesce(sum(b.nb_objects), 0) AS n FROM blocks b JOIN processes p USING (process_id) WHERE p.exe = $1`, [exe]),
    });
    const objects = async () => {
      let n = 0;
      for await (const _ of server.lake.objects.list('blobs/')) n++;
      return n;
    };
    const reason = async (r: Response) => ((await r.json()) as { error: string }).error;

    test('3,000 resources in one request (the finding: one block each): refused (413), as JSON and from protobuf wire bytes, nothing stored; 1,000 of one instance: one process, stream, block and object', async () => {
      const before = { ...(await counts()), objects: await objects() };
      // the finding's request: one record per resource
      const many = logs(Array.from({ length: 3000 }, (_, i) => ({ instance: 'i-1', records: [record(i)] })));
      const refused = await post('logs', many);
      assert.equal(refused.status, 413);
      assert.match(await reason(refused), /3000 resources in one request, more than 1000/);
      assert.deepEqual({ ...(await counts()), objects: await objects() }, before);
      // the protobuf encoding is refused from its wire bytes, before it is decoded
      const pb = await post('logs', encode('ExportLogsServiceRequest', many), 'application/x-protobuf');
      assert.equal(pb.status, 413);
      // at the limit, every resource of the same instance goes into one block
      const ok = await post('logs', logs(Array.from({ length: 1000 }, (_, i) => ({ instance: 'i-1', records: [record(i)] }))));
      assert.equal(ok.status, 200, await ok.clone().text());
      assert.deepEqual(await counts(), { processes: 1, streams: 1, blocks: 1, events: 1000 });
      assert.equal(await objects(), before.objects + 1);
    });

    test('distinct instances: 64 in one request make 64 blocks, 65 are refused (400) with nothing stored', async () => {
      const exe = { key: 'service.name', value: { stringValue: 'fanout' } };
      const body = (n: number) => ({
        resourceLogs: Array.from({ length: n }, (_, i) => ({
          resource: { attributes: [exe, { key: 'service.instance.id', value: { stringValue: `f-${i}` } }] },
          scopeLogs: [{ logRecords: [record(i)] }],
        })),
      });
      const refused = await post('logs', body(65));
      assert.equal(refused.status, 400);
      assert.match(await reason(refused), /more than 64 distinct resources/);
      assert.deepEqual(await counts('fanout'), { processes: 0, streams: 0, blocks: 0, events: 0 });
      assert.equal((await post('logs', body(64))).status, 200);
      assert.deepEqual(await counts('fanout'), { processes: 64, streams: 64, blocks: 64, events: 64 });
    });

    test('more than 100,000 events in one request: 413 (JSON after conversion, protobuf from its wire bytes), nothing stored', async () => {
      const before = await counts('flood');
      const flood = { resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'flood' } }] }, scopeLogs: [{ logRecords: Array.from({ length: 100_001 }, () => ({})) }] }] };
      const json = await post('logs', flood);
      assert.equal(json.status, 413);
      assert.match(await reason(json), /more than 100000 events/);
      // 100,001 empty records are 200 KB on the wire and would be 100,001 objects once decoded
      const pb = await post('logs', encode('ExportLogsServiceRequest', flood), 'application/x-protobuf');
      assert.equal(pb.status, 413);
      assert.match(await reason(pb), /100001 records in one request/);
      const spans = await post('traces', { resourceSpans: [{ scopeSpans: [{ spans: Array.from({ length: 50_001 }, (_, i) => ({ spanId: i.toString(16).padStart(16, '0'), startTimeUnixNano: '1', endTimeUnixNano: '2' })) }] }] });
      assert.equal(spans.status, 413);
      assert.deepEqual(await counts('flood'), before);
    });

    test('all or nothing: one valid and one invalid resource answer 400 and store no process, stream, block or object', async () => {
      const before = { ...(await counts('aon')), objects: await objects() };
      const body = (second: object) => ({
        resourceLogs: [
          { resource: { attributes: [{ key: 'service.name', value: { stringValue: 'aon' } }, { key: 'service.instance.id', value: { stringValue: 'good' } }] }, scopeLogs: [{ logRecords: [record(1)] }] },
          { resource: { attributes: [{ key: 'service.name', value: { stringValue: 'aon' } }, { key: 'service.instance.id', value: { stringValue: 'bad' } }] }, scopeLogs: [{ logRecords: [second] }] },
        ],
      });
      // refused while converting (a bad time), and only when its block is validated (a message over 1 MiB)
      for (const second of [{ timeUnixNano: 'yesterday' }, record(2, 'x'.repeat(1024 * 1024 + 1))]) {
        const r = await post('logs', body(second));
        assert.equal(r.status, 400, await r.clone().text());
        assert.deepEqual({ ...(await counts('aon')), objects: await objects() }, before);
      }
      assert.equal((await post('logs', body(record(2)))).status, 200);
      assert.deepEqual(await counts('aon'), { processes: 2, streams: 2, blocks: 2, events: 2 });
    });

    test('a re-sent request (JSON or protobuf, timed or not) stores nothing twice', async () => {
      const exe = 'retry';
      const body = {
        resourceLogs: [{
          resource: { attributes: [{ key: 'service.name', value: { stringValue: exe } }] },
          // the second record has no time: it takes the first's, so the retry's block has the same bytes
          scopeLogs: [{ logRecords: [record(1), { body: { stringValue: 'untimed' } }] }],
        }],
      };
      const metrics = {
        resourceMetrics: [{
          resource: { attributes: [{ key: 'service.name', value: { stringValue: exe } }] },
          scopeMetrics: [{ metrics: [{ name: 'q', unit: '1', gauge: { dataPoints: [{ timeUnixNano: String(T), asInt: '3' }] } }] }],
        }],
      };
      const sends = [
        () => post('logs', body),
        () => post('logs', encode('ExportLogsServiceRequest', body), 'application/x-protobuf'),
        () => post('metrics', metrics),
      ];
      for (const send of sends) {
        const res = await send();
        assert.equal(res.status, 200, await res.text());
      }
      const first = { ...(await counts(exe)), objects: await objects() };
      // JSON and protobuf requests are different requests (blocks of their own), the same request twice is not
      assert.deepEqual({ blocks: first.blocks, events: first.events }, { blocks: 3, events: 5 });
      for (const send of sends) for (let i = 0; i < 2; i++) assert.equal((await send()).status, 200);
      assert.deepEqual({ ...(await counts(exe)), objects: await objects() }, first);
    });

    test('fuzz: 400 seeded malformed requests (random bytes, truncated and mutated protobuf, wrong JSON shapes) answer 4xx, never 5xx; the server stays healthy', async (t) => {
      const r = rng(0x5eed);
      const valid = {
        resourceLogs: [{
          resource: resource('fz'),
          scopeLogs: [{ scope: { name: 'z' }, logRecords: [
            { timeUnixNano: String(T), severityNumber: 9, body: { kvlistValue: { values: [{ key: 'a', value: { arrayValue: { values: [{ intValue: '1' }] } } }] } }, attributes: [{ key: 'k', value: { stringValue: 'v' } }], traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174' },
          ] }],
        }],
      };
      const validSpans = { resourceSpans: [{ resource: resource('fz'), scopeSpans: [{ spans: [{ spanId: '00000000000000a1', name: 'x', startTimeUnixNano: String(T), endTimeUnixNano: String(T + 5n) }] }] }] };
      const validMetrics = { resourceMetrics: [{ resource: resource('fz'), scopeMetrics: [{ metrics: [{ name: 'g', gauge: { dataPoints: [{ timeUnixNano: String(T), asDouble: 1.5 }] } }, { name: 'h', histogram: { dataPoints: [{ timeUnixNano: String(T), count: '2', sum: 3 }] } }] }] }] };
      const types = { logs: 'ExportLogsServiceRequest', traces: 'ExportTraceServiceRequest', metrics: 'ExportMetricsServiceRequest' } as const;
      const bodies = { logs: valid, traces: validSpans, metrics: validMetrics };
      const odd = (): unknown => r.pick([null, 0, -1, 1.5, 1e300, 'x', '', '99999999999999999999999', true, [], [null], {}, { stringValue: 5 }, [[[]]], { key: {} }, 'ffffffffffffffff', -0x8000000000000001, 'nul \u0000', 'lone \ud800', 'x'.repeat(70_000)]);
      // a copy of `v` with one value, somewhere, replaced by an odd one
      const mutate = (v: unknown): unknown => {
        if (v === null || typeof v !== 'object') return odd();
        const keys = Object.keys(v);
        if (keys.length === 0 || r.next() < 0.2) return odd();
        const copy: Record<string, unknown> = Array.isArray(v) ? ([...v] as unknown as Record<string, unknown>) : { ...(v as Record<string, unknown>) };
        const k = r.pick(keys);
        copy[k] = mutate(copy[k]);
        return copy;
      };
      // built as text: JSON.stringify itself would exhaust the stack
      const nested = `${'{"arrayValue":{"values":['.repeat(20_000)}{"stringValue":"deep"}${']}}'.repeat(20_000)}`;
      const deep = `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"${T}","body":${nested}}]}]}]}`;
      const seen = new Map<number, number>();
      for (let n = 0; n < 400; n++) {
        const signal = r.pick(['logs', 'traces', 'metrics'] as const);
        const pb = encode(types[signal], bodies[signal]);
        let body: string | Uint8Array;
        let type = 'application/json';
        switch (n % 6) {
          case 0: // random bytes as protobuf
            body = Uint8Array.from({ length: r.int(200) }, () => r.int(256));
            type = 'application/x-protobuf';
            break;
          case 1: // a valid request cut short
            body = pb.subarray(0, r.int(pb.length));
            type = 'application/x-protobuf';
            break;
          case 2: { // a valid request with a few bytes changed
            body = Uint8Array.from(pb);
            for (let k = 0; k <= r.int(4); k++) body[r.int(body.length)] = r.int(256);
            type = 'application/x-protobuf';
            break;
          }
          case 3: // a JSON request with a value of the wrong shape somewhere
            body = JSON.stringify(mutate(bodies[signal]));
            break;
          case 4: // JSON cut short, or not UTF-8
            body = r.next() < 0.5 ? JSON.stringify(bodies[signal]).slice(0, r.int(100)) : Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d]);
            break;
          default: // nesting deep enough to exhaust a recursive reader
            body = r.next() < 0.5 ? deep : '['.repeat(100_000);
            if (signal !== 'logs') body = JSON.stringify(mutate(bodies[signal]));
        }
        const res = await post(signal, body, type);
        seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
        assert.ok([200, 400, 413, 415].includes(res.status), `case ${n} (${signal}): ${res.status} ${await res.text()}`);
        await res.arrayBuffer().catch(() => {});
      }
      t.diagnostic(`answers: ${JSON.stringify(Object.fromEntries(seen))}`);
      assert.ok((seen.get(400) ?? 0) > 200, `mostly refused: ${JSON.stringify([...seen])}`);
      assert.equal((await fetch(`${server.url}/health`)).status, 200);
      assert.equal((await post('logs', logs([{ instance: 'after-fuzz', records: [record(1)] }]))).status, 200);
    });
  });
}
