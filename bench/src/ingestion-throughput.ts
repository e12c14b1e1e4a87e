/**
 * Ingestion throughput: how many realistic ~64 KiB LZ4 blocks per second `sirius serve --roles ingestion`
 * stores end to end (validated, object written, row committed) when a loopback client keeps 16 requests
 * in flight. The server runs in its own process so its CPU time can be read from /proc: the
 * "per server core" figure divides bytes by that CPU time, not by wall time.
 *
 * Metadata goes to the PostgreSQL server named by SIRIUS_BENCH_PG or SIRIUS_TEST_PG (a fresh database,
 * dropped afterwards); without either, to embedded PGlite (the results say which). Objects go to a file
 * store in a temp folder, then, in a second run, to memory:// to show what the file system costs.
 *
 * Standalone: node --import tsx bench/src/ingestion-throughput.ts
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BlockEncoder, encodeBlock, LogLevel, lz4SectionsCodec, type BlockMeta } from '@sirius/transit';
import { lz4Codec } from '@sirius/server';
import { cpuSeconds, createDatabase, postJson, startIngestionProcess, stopProcess } from './ingestion-server.js';

const TARGET_BLOCK_BYTES = 64 * 1024;
const IN_FLIGHT = 16;
const WARMUP_BLOCKS = 300;
const MEASURED_BLOCKS = 2000;

export async function run(): Promise<Record<string, number>> {
  const pgUrl = process.env.SIRIUS_BENCH_PG ?? process.env.SIRIUS_TEST_PG;
  const results: Record<string, number> = { 'metadata on PostgreSQL server (1) or PGlite (0)': pgUrl ? 1 : 0 };
  // the file store is what a single-machine deployment uses; memory:// shows the cost of everything else
  for (const store of ['file', 'memory'] as const) {
    for (const [k, v] of Object.entries(await runVariant(pgUrl, store))) results[`${store} store: ${k}`] = v;
  }
  return results;
}

async function runVariant(pgUrl: string | undefined, store: 'file' | 'memory'): Promise<Record<string, number>> {
  const db = pgUrl ? await createDatabase(pgUrl) : undefined;
  const dir = await mkdtemp(join(tmpdir(), 'sirius-bench-ingest-'));
  let server: Awaited<ReturnType<typeof startIngestionProcess>> | undefined;
  try {
    server = await startIngestionProcess(dir, db?.url, store === 'file' ? pathToFileURL(join(dir, 'objects')).href : 'memory://');
    const ids = { process_id: randomUUID(), stream_id: randomUUID() };
    await postJson(server.url, 'insert_process', {
      process_id: ids.process_id, exe: 'bench', username: 'bench', realname: 'bench', computer: 'bench', distro: 'linux',
      cpu_brand: 'cpu', tsc_frequency: 1e9, start_time: '1763890000000000000', start_ticks: '0', parent_process_id: null, properties: {},
    });
    await postJson(server.url, 'insert_stream', { stream_id: ids.stream_id, process_id: ids.process_id, tags: ['log', 'metrics'], properties: {} });
    const template = realisticBlock(ids.process_id, ids.stream_id);

    await send(server.url, template.body, WARMUP_BLOCKS);
    const cpuBefore = await cpuSeconds(server.child.pid!);
    const clientBefore = process.cpuUsage();
    const t0 = performance.now();
    await send(server.url, template.body, MEASURED_BLOCKS);
    const seconds = (performance.now() - t0) / 1000;
    const client = process.cpuUsage(clientBefore);
    const cpu = (await cpuSeconds(server.child.pid!)) - cpuBefore;

    const mb = (MEASURED_BLOCKS * template.body.byteLength) / 1e6;
    return {
      'block size, compressed KiB': template.body.byteLength / 1024,
      'events per block': template.events,
      'blocks/s': MEASURED_BLOCKS / seconds,
      'compressed MB/s (wall)': mb / seconds,
      'events/s (wall)': (MEASURED_BLOCKS * template.events) / seconds,
      'server CPU s per wall s': cpu / seconds,
      'client CPU s per wall s': (client.user + client.system) / 1e6 / seconds,
      'compressed MB/s per server core': mb / cpu,
    };
  } finally {
    if (server) await stopProcess(server.child);
    await rm(dir, { recursive: true, force: true });
    await db?.drop();
  }
}

/** log lines and frame-time metrics with varied text, sized so the LZ4 envelope is ~64 KiB */
function realisticBlock(processId: string, streamId: string): { body: Uint8Array; events: number } {
  const probe = buildBlock(processId, streamId, 2000);
  const events = Math.round((2000 * TARGET_BLOCK_BYTES) / probe.byteLength);
  return { body: buildBlock(processId, streamId, events), events };
}

function buildBlock(processId: string, streamId: string, events: number): Uint8Array {
  const enc = new BlockEncoder();
  const targets = ['game::render', 'game::physics', 'net::client', 'assets::loader'];
  const words = ['frame', 'entity', 'chunk', 'socket', 'texture', 'player', 'shader', 'queue', 'buffer', 'tick'];
  let ticks = 0;
  for (let e = 0; e < events; e++) {
    ticks += 1000 + (e % 97) * 13;
    const target = targets[e % targets.length]!;
    if (e % 3 === 0) enc.floatMetric(ticks, 'frame_time', 'ms', target, 16 + Math.sin(e) * 3);
    else enc.log(ticks, LogLevel.info, target, `${words[(e * 7) % words.length]} ${e} ready after ${(e * 31) % 997} us id=${randomBytes(3).toString('hex')}`);
  }
  const meta: BlockMeta = {
    block_id: randomUUID(), stream_id: streamId, process_id: processId, begin_time: 1763890000000000000n, begin_ticks: 0n,
    end_time: 1763890000000000000n + BigInt(ticks), end_ticks: BigInt(ticks), nb_objects: events,
  };
  // codec 2, as the tracing library sends it
  return encodeBlock(meta, enc.finish(), lz4SectionsCodec(lz4Codec));
}

/** Posts `count` copies of the template, each with a fresh block id, keeping IN_FLIGHT requests open. */
async function send(url: string, template: Uint8Array, count: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const body = template.slice();
      // block_id lives at bytes 16..32 of the envelope; a fresh random id makes each block distinct
      body.set(randomBytes(16), 16);
      body[22] = (body[22]! & 0x0f) | 0x40;
      body[24] = (body[24]! & 0x3f) | 0x80;
      const r = await fetch(`${url}/ingestion/insert_block`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
      if (r.status !== 200) throw new Error(`insert_block answered ${r.status}: ${await r.text()}`);
      await r.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(await run());
}
