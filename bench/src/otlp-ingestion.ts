/**
 * OTLP ingestion next to the native path: spans/s and log records/s per server core for OTLP/HTTP protobuf
 * requests gzipped as exporters send them (`compression: 'gzip'`, the Collector's default), log records also
 * without compression, and the same number of log events per request as native LZ4 blocks
 * (`/ingestion/insert_block`). Each request carries 512 items (the SDKs' default batch) of one service
 * instance, all distinct (a re-sent request would be skipped, not stored). The server runs in its own process
 * (`sirius serve --roles ingestion`, file object store) and "per core" divides items by its CPU time read
 * from /proc; the client's encoding and compression happen before the clock starts.
 *
 * Metadata goes to SIRIUS_BENCH_PG or SIRIUS_TEST_PG (a fresh database, dropped afterwards), else PGlite.
 *
 * Standalone: node --import tsx bench/src/otlp-ingestion.ts
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { BlockEncoder, encodeBlock, LogLevel, lz4SectionsCodec, type BlockMeta } from '@sirius/transit';
import { lz4Codec } from '@sirius/server';
import { cpuSeconds, createDatabase, postJson, startIngestionProcess, stopProcess } from './ingestion-server.js';

const PROTO = fileURLToPath(new URL('../../packages/server/src/ingestion/proto/otlp.proto', import.meta.url));
const BATCH = 512;
const WARMUP = 20;
const MEASURED = 120;
const IN_FLIGHT = 8;

const proto = protobuf.loadSync(PROTO);
const encode = (type: string, value: object) => {
  const t = proto.lookupType(`sirius.otlp.${type}`);
  return t.encode(t.fromObject(value)).finish();
};
const str = (stringValue: string) => ({ stringValue });
const RESOURCE = {
  attributes: [
    { key: 'service.name', value: str('checkout') }, { key: 'service.instance.id', value: str('bench-1') },
    { key: 'host.name', value: str('bench-host') }, { key: 'telemetry.sdk.language', value: str('nodejs') },
  ],
};
const ROUTES = ['/cart', '/checkout', '/items/:id', '/login', '/search'];

/** one export of BATCH spans: a few traces of nested spans with the attributes HTTP and DB instrumentation adds */
function tracesRequest(n: number): Uint8Array {
  const t0 = BigInt(Date.now() - 60_000) * 1_000_000n + BigInt(n) * 1_000_000_000n;
  const spans = [];
  let traceId = '';
  let parent = '';
  for (let i = 0; i < BATCH; i++) {
    if (i % 8 === 0) {
      traceId = randomBytes(16).toString('hex');
      parent = '';
    }
    const spanId = randomBytes(8).toString('hex');
    const begin = t0 + BigInt(i) * 1_000_000n;
    spans.push({
      traceId: Buffer.from(traceId, 'hex'), spanId: Buffer.from(spanId, 'hex'), parentSpanId: parent ? Buffer.from(parent, 'hex') : undefined,
      name: i % 8 === 0 ? `GET ${ROUTES[i % ROUTES.length]}` : `db.query ${i % 8}`, kind: i % 8 === 0 ? 2 : 3,
      startTimeUnixNano: String(begin), endTimeUnixNano: String(begin + BigInt(200_000 + (i % 97) * 3_000)),
      attributes: [
        { key: 'http.method', value: str('GET') }, { key: 'http.route', value: str(ROUTES[i % ROUTES.length]!) },
        { key: 'http.status_code', value: { intValue: String(200 + (i % 3)) } }, { key: 'db.system', value: str('postgresql') },
        { key: 'net.peer.name', value: str(`db-${i % 4}.internal`) },
      ],
      status: { code: i % 50 === 0 ? 2 : 0, message: i % 50 === 0 ? 'timeout' : '' },
    });
    if (i % 8 === 0) parent = spanId;
  }
  return encode('ExportTraceServiceRequest', { resourceSpans: [{ resource: RESOURCE, scopeSpans: [{ scope: { name: '@opentelemetry/instrumentation-http' }, spans }] }] });
}

function logsRequest(n: number): Uint8Array {
  const t0 = BigInt(Date.now() - 60_000) * 1_000_000n + BigInt(n) * 1_000_000_000n;
  const logRecords = Array.from({ length: BATCH }, (_, i) => ({
    timeUnixNano: String(t0 + BigInt(i) * 100_000n), severityNumber: i % 20 === 0 ? 17 : 9,
    body: str(`request ${n}.${i} served ${ROUTES[i % ROUTES.length]} in ${(i * 31) % 997} us id=${randomBytes(3).toString('hex')}`),
    attributes: [{ key: 'http.route', value: str(ROUTES[i % ROUTES.length]!) }, { key: 'user', value: { intValue: String(i % 1000) } }],
  }));
  return encode('ExportLogsServiceRequest', { resourceLogs: [{ resource: RESOURCE, scopeLogs: [{ scope: { name: 'app' }, logRecords }] }] });
}

/** the native path's equivalent: BATCH log events in one LZ4 block, as the tracing library sends it */
function nativeBlock(ids: { process_id: string; stream_id: string }, n: number): Uint8Array {
  const enc = new BlockEncoder();
  let ticks = 0;
  for (let i = 0; i < BATCH; i++) {
    ticks += 100_000;
    enc.log(ticks, i % 20 === 0 ? LogLevel.error : LogLevel.info, 'app', `request ${n}.${i} served ${ROUTES[i % ROUTES.length]} in ${(i * 31) % 997} us id=${randomBytes(3).toString('hex')}`,
      { 'http.route': ROUTES[i % ROUTES.length]!, user: String(i % 1000) });
  }
  const begin = BigInt(Date.now() - 60_000) * 1_000_000n + BigInt(n) * 1_000_000_000n;
  const meta: BlockMeta = {
    block_id: randomUUID(), stream_id: ids.stream_id, process_id: ids.process_id, begin_time: begin, begin_ticks: 0n,
    end_time: begin + BigInt(ticks), end_ticks: BigInt(ticks), nb_objects: BATCH,
  };
  return encodeBlock(meta, enc.finish(), lz4SectionsCodec(lz4Codec));
}

interface Variant {
  name: string;
  path: string;
  headers: Record<string, string>;
  bodies: Uint8Array[];
}

export async function run(): Promise<Record<string, number | string>> {
  const pgUrl = process.env.SIRIUS_BENCH_PG ?? process.env.SIRIUS_TEST_PG;
  const db = pgUrl ? await createDatabase(pgUrl) : undefined;
  const dir = await mkdtemp(join(tmpdir(), 'sirius-bench-otlp-'));
  const results: Record<string, number | string> = { metadata: pgUrl ? 'PostgreSQL server' : 'PGlite', 'items per request': BATCH };
  let server: Awaited<ReturnType<typeof startIngestionProcess>> | undefined;
  try {
    // every body is made before the server starts: seconds of idle keep-alive connections would be closed by
    // the server just as the client reuses them
    const ids = { process_id: randomUUID(), stream_id: randomUUID() };
    const n = WARMUP + MEASURED;
    const protobufType = { 'content-type': 'application/x-protobuf' };
    const gzipped = { ...protobufType, 'content-encoding': 'gzip' };
    const traces = Array.from({ length: n }, (_, i) => tracesRequest(i));
    const logs = Array.from({ length: n }, (_, i) => logsRequest(i));
    const variants: Variant[] = [
      { name: 'OTLP spans, protobuf + gzip', path: '/v1/traces', headers: gzipped, bodies: traces.map((b) => gzipSync(b)) },
      { name: 'OTLP logs, protobuf + gzip', path: '/v1/logs', headers: gzipped, bodies: logs.map((b) => gzipSync(b)) },
      // same records, another request id: the bodies differ from the gzipped ones only in their encoding
      { name: 'OTLP logs, protobuf', path: '/ingestion/otlp/v1/logs', headers: protobufType, bodies: Array.from({ length: n }, (_, i) => logsRequest(n + i)) },
      { name: 'native logs, LZ4 block', path: '/ingestion/insert_block', headers: { 'content-type': 'application/octet-stream' }, bodies: Array.from({ length: n }, (_, i) => nativeBlock(ids, i)) },
    ];
    server = await startIngestionProcess(dir, db?.url, pathToFileURL(join(dir, 'objects')).href);
    await postJson(server.url, 'insert_process', {
      process_id: ids.process_id, exe: 'bench', username: 'bench', realname: 'bench', computer: 'bench', distro: 'linux',
      cpu_brand: 'cpu', tsc_frequency: 1e9, start_time: '1763890000000000000', start_ticks: '0', parent_process_id: null, properties: {},
    });
    await postJson(server.url, 'insert_stream', { stream_id: ids.stream_id, process_id: ids.process_id, tags: ['log'], properties: {} });
    for (const v of variants) {
      await send(server.url, v, 0, WARMUP);
      const cpuBefore = await cpuSeconds(server.child.pid!);
      const t0 = performance.now();
      await send(server.url, v, WARMUP, n);
      const seconds = (performance.now() - t0) / 1000;
      const cpu = (await cpuSeconds(server.child.pid!)) - cpuBefore;
      const items = MEASURED * BATCH;
      const bytes = v.bodies.slice(WARMUP).reduce((a, b) => a + b.byteLength, 0);
      results[`${v.name}: items/s per server core`] = items / cpu;
      results[`${v.name}: items/s (wall)`] = items / seconds;
      results[`${v.name}: request KiB`] = bytes / MEASURED / 1024;
    }
    const perCore = (name: string) => results[`${name}: items/s per server core`] as number;
    results['native logs / OTLP logs (gzip), per core'] = perCore('native logs, LZ4 block') / perCore('OTLP logs, protobuf + gzip');
    return results;
  } finally {
    if (server) await stopProcess(server.child);
    await rm(dir, { recursive: true, force: true });
    await db?.drop();
  }
}

async function send(url: string, v: Variant, from: number, to: number): Promise<void> {
  let next = from;
  const worker = async () => {
    while (next < to) {
      const body = v.bodies[next++]!;
      const r = await fetch(`${url}${v.path}`, { method: 'POST', body: body as Uint8Array<ArrayBuffer>, headers: v.headers }).catch((err: Error) => {
        throw new Error(`${v.name}: ${v.path}: ${err.message} (${(err.cause as Error | undefined)?.message ?? ''})`);
      });
      if (r.status !== 200) throw new Error(`${v.name}: ${v.path} answered ${r.status}: ${await r.text()}`);
      await r.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(await run());
}
