/**
 * Test data for the lakehouse: a server doing real ingestion on loopback, and generators of log and metric
 * blocks whose every event is predictable, so tests can compare partitions with what was sent, column by column.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlockEncoder, encodeBlock, lz4SectionsCodec, type BlockMeta, type ProcessInfo, type StreamInfo } from '@sirius/transit';
import { DuckDBInstance } from '@duckdb/node-api';
import { lz4Codec } from '../../src/lake/lz4-codec.js';
import { startServer, type RunningServer } from '../../src/serve.js';
import type { PgBackend } from '../support/pg.js';

/** process clock: 2 ticks per nanosecond, so a tick→time bug shows */
export const TSC = 2_000_000_000;
export const T0 = 1_763_890_000_000_000_000n;

export interface TestLake {
  server: RunningServer;
  dir: string;
  connectionString: string | undefined;
  objectStoreUri: string;
  close(): Promise<void>;
}

export async function startTestLake(backend: PgBackend, opts: { keepDb?: boolean } = {}): Promise<TestLake> {
  const dir = await mkdtemp(join(tmpdir(), 'sirius-lakehouse-'));
  const db = await backend.create();
  const objectStoreUri = `file://${join(dir, 'objects')}`;
  const server = await startServer({
    roles: ['ingestion'],
    httpPort: 0,
    dataDir: dir,
    sqlConnectionString: db.connectionString ?? undefined,
    objectStoreUri,
    quiet: true,
  });
  return {
    server,
    dir,
    connectionString: db.connectionString,
    objectStoreUri,
    async close() {
      await server.close();
      if (!opts.keepDb) await db.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function makeProcess(overrides: Partial<ProcessInfo> = {}): ProcessInfo {
  return {
    process_id: randomUUID(),
    exe: '/usr/bin/game',
    username: 'alice',
    realname: 'Alice',
    computer: 'box',
    distro: 'debian 12',
    cpu_brand: 'test cpu',
    tsc_frequency: TSC,
    start_time: String(T0),
    start_ticks: '0',
    parent_process_id: null,
    properties: { env: 'test' },
    ...overrides,
  };
}

export function makeStream(processId: string, tags: string[]): StreamInfo {
  return { stream_id: randomUUID(), process_id: processId, tags, properties: {} };
}

export interface ExpectedLog {
  process_id: string;
  stream_id: string;
  block_id: string;
  time: bigint;
  target: string;
  level: number;
  msg: string;
  properties: Record<string, string> | null;
}

export interface ExpectedMeasure {
  process_id: string;
  stream_id: string;
  block_id: string;
  time: bigint;
  target: string;
  name: string;
  unit: string;
  value: number;
  properties: Record<string, string> | null;
}

/** what the tracing library sends: LZ4 with the data section apart (transit codec 2) */
const clientCodec = lz4SectionsCodec(lz4Codec);

/** Block `index` of a log stream: `n` events 1 µs apart, starting `index` ms after T0. */
export function logBlock(stream: StreamInfo, index: number, n: number): { body: Uint8Array; rows: ExpectedLog[]; meta: BlockMeta } {
  const enc = new BlockEncoder();
  const rows: ExpectedLog[] = [];
  const begin = T0 + BigInt(index) * 1_000_000n;
  const block_id = randomUUID();
  for (let k = 0; k < n; k++) {
    const level = 1 + (k % 6);
    const target = `t${k % 3}`;
    const msg = `m ${index} ${k} é`;
    const properties = k % 2 === 0 ? { k: String(k), b: `${index}` } : null;
    enc.log(k * 2000, level, target, msg, properties);
    rows.push({ process_id: stream.process_id, stream_id: stream.stream_id, block_id, time: begin + BigInt(k * 1000), target, level, msg, properties });
  }
  const meta: BlockMeta = {
    block_id,
    stream_id: stream.stream_id,
    process_id: stream.process_id,
    begin_time: begin,
    begin_ticks: BigInt(index) * 2_000_000n,
    end_time: begin + BigInt(n * 1000),
    end_ticks: BigInt(index) * 2_000_000n + BigInt(n * 2000),
    nb_objects: n,
  };
  // odd blocks as older clients send them (codec 1), even ones as the tracing library does (codec 2, whose
  // messages the lakehouse puts into Parquet as they came)
  return { body: encodeBlock(meta, enc.finish(), index % 2 ? lz4Codec : clientCodec), rows, meta };
}

/** Block `index` of a metrics stream: `n` samples alternating integer and float metrics. */
export function metricBlock(stream: StreamInfo, index: number, n: number): { body: Uint8Array; rows: ExpectedMeasure[] } {
  const enc = new BlockEncoder();
  const rows: ExpectedMeasure[] = [];
  const begin = T0 + BigInt(index) * 1_000_000n;
  const block_id = randomUUID();
  for (let k = 0; k < n; k++) {
    const properties = k % 3 === 0 ? { gpu: 'yes' } : null;
    const base = { process_id: stream.process_id, stream_id: stream.stream_id, block_id, time: begin + BigInt(k * 1000), properties };
    if (k % 2 === 0) {
      enc.intMetric(k * 2000, 'frames', 'count', 'game', BigInt(k * 10), properties);
      rows.push({ ...base, target: 'game', name: 'frames', unit: 'count', value: k * 10 });
    } else {
      enc.floatMetric(k * 2000, 'frame_time', 'ms', 'render', k / 4, properties);
      rows.push({ ...base, target: 'render', name: 'frame_time', unit: 'ms', value: k / 4 });
    }
  }
  const meta: BlockMeta = {
    block_id,
    stream_id: stream.stream_id,
    process_id: stream.process_id,
    begin_time: begin,
    begin_ticks: BigInt(index) * 2_000_000n,
    end_time: begin + BigInt(n * 1000),
    end_ticks: BigInt(index) * 2_000_000n + BigInt(n * 2000),
    nb_objects: n,
  };
  return { body: encodeBlock(meta, enc.finish(), clientCodec), rows };
}

export async function post(server: RunningServer, path: string, body: unknown): Promise<void> {
  const isBytes = body instanceof Uint8Array;
  const r = await fetch(`${server.url}/ingestion/${path}`, {
    method: 'POST',
    body: isBytes ? (body as unknown as BodyInit) : JSON.stringify(body),
    headers: { 'content-type': isBytes ? 'application/octet-stream' : 'application/json' },
  });
  if (r.status !== 200) throw new Error(`POST ${path}: ${r.status} ${await r.text()}`);
}

let duck: Promise<DuckDBInstance> | undefined;

/** Rows of Parquet files as JSON-friendly objects (bigints as strings), in the given order. */
export async function readParquetRows(paths: string[], columns: string, orderBy: string, groupBy = ''): Promise<Record<string, unknown>[]> {
  if (paths.length === 0) return [];
  duck ??= DuckDBInstance.create(':memory:');
  const c = await (await duck).connect();
  try {
    const list = paths.map((p) => `'${p.replaceAll("'", "''")}'`).join(', ');
    const r = await c.runAndReadAll(`SELECT ${columns} FROM read_parquet([${list}]) ${groupBy} ORDER BY ${orderBy}`);
    return r.getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    c.closeSync();
  }
}

/** Polls `fn` until it returns a truthy value, failing after `ms`. */
export async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
