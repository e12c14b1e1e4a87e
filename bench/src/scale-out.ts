/**
 * Scale-out on this machine: 1, 2 and 3 `sirius serve --roles ingestion` processes, with 1 and 2
 * `--roles daemon` processes, sharing one PostgreSQL database and one file object store. A loopback client
 * spreads ~64 KiB blocks (two thirds log lines, one third metrics) round-robin over the ingestion servers with
 * 16 requests in flight; the daemons materialize them into `log_entries` and `measures` partitions as they
 * arrive. Per configuration:
 *   - ingestion events/s: from the first block sent to the last acknowledged (wall), and the ingestion
 *     servers' CPU-seconds per million events (from /proc);
 *   - ETL: events/s from the first block sent until every event is in a partition (wall, so it includes the
 *     daemons' 2 s lag), and the daemons' CPU-seconds per million events;
 *   - per core: events per CPU-second of the role's processes, the figure that says how far one more core goes.
 * The machine has two cores and the client shares them, so wall figures stop growing once the cores are full;
 * the CPU-second figures say what each role would do on a core of its own.
 *
 * Also printed: raw block bytes per log event and per metric event (what the object store keeps of each
 * kind before compaction; docs/cost.md uses them).
 *
 * Metadata on SIRIUS_BENCH_PG, else SIRIUS_TEST_PG, else the local test server (PGlite is one process's).
 * Runs alone: `node --conditions=sirius-source --import tsx bench/src/scale-out.ts`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { BlockEncoder, encodeBlock, LogLevel, lz4SectionsCodec, type BlockMeta } from '@sirius/transit';
import { lz4Codec } from '../../packages/server/src/lake/lz4-codec.js';
import { cpuSeconds, createDatabase, postJson, stopProcess } from './ingestion-server.js';

const MAIN = fileURLToPath(new URL('../../packages/server/src/cli/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BLOCKS = Number(process.env.SCALE_OUT_BLOCKS ?? 300);
const IN_FLIGHT = 16;
/** event times are recent: the daemons' retention (90 days by default) would expire older blocks */
const NOW = BigInt(Date.now()) * 1_000_000n;
const CONFIGS: [ingestion: number, daemons: number][] = [[1, 1], [2, 1], [3, 1], [1, 2], [2, 2], [3, 2]];

async function startRole(role: 'ingestion' | 'daemon', dir: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string; output(): string }> {
  const child = spawn(process.execPath, ['--conditions=sirius-source', '--import', 'tsx', MAIN, 'serve', '--roles', role, '--http-port', '0', '--data-dir', dir], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
    if (url) return { child, url, output: () => out };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`${role} did not start: ${out}`);
}

interface Template {
  body: Uint8Array;
  logs: number;
  metrics: number;
}

function buildBlock(processId: string, streamId: string, events: number, kinds: 'mixed' | 'logs' | 'metrics'): Template {
  const enc = new BlockEncoder();
  const targets = ['game::render', 'game::physics', 'net::client', 'assets::loader'];
  const words = ['frame', 'entity', 'chunk', 'socket', 'texture', 'player', 'shader', 'queue', 'buffer', 'tick'];
  let ticks = 0;
  let logs = 0;
  let metrics = 0;
  for (let e = 0; e < events; e++) {
    ticks += 1000 + (e % 97) * 13;
    const target = targets[e % targets.length]!;
    const metric = kinds === 'metrics' || (kinds === 'mixed' && e % 3 === 0);
    if (metric) {
      enc.floatMetric(ticks, 'frame_time', 'ms', target, 16 + Math.sin(e) * 3);
      metrics++;
    } else {
      enc.log(ticks, LogLevel.info, target, `${words[(e * 7) % words.length]} ${e} ready after ${(e * 31) % 997} us id=${randomBytes(3).toString('hex')}`);
      logs++;
    }
  }
  const meta: BlockMeta = {
    block_id: randomUUID(), stream_id: streamId, process_id: processId, begin_time: NOW, begin_ticks: 0n,
    end_time: NOW + BigInt(ticks), end_ticks: BigInt(ticks), nb_objects: events,
  };
  return { body: encodeBlock(meta, enc.finish(), lz4SectionsCodec(lz4Codec)), logs, metrics };
}

/** posts `count` copies of the template with fresh block ids, round-robin over `urls`, IN_FLIGHT at a time */
async function send(urls: string[], template: Uint8Array, count: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const url = urls[next++ % urls.length]!;
      const body = template.slice();
      // block_id lives at bytes 16..32 of the envelope (a v4 UUID)
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

async function runConfig(base: string, ingestionCount: number, daemonCount: number): Promise<Record<string, number>> {
  const db = await createDatabase(base);
  const dir = await mkdtemp(join(tmpdir(), 'sirius-bench-scale-out-'));
  const env = {
    ...process.env,
    SIRIUS_SQL_CONNECTION_STRING: db.url,
    SIRIUS_OBJECT_STORE_URI: pathToFileURL(join(dir, 'objects')).href,
    SIRIUS_INGESTION_KEYS: '',
    SIRIUS_SELF_TELEMETRY: '',
  };
  const procs: ChildProcess[] = [];
  const sql = new pg.Client({ connectionString: db.url });
  try {
    // one server first: it applies the migrations the others then find done
    const first = await startRole('ingestion', join(dir, 'i0'), env);
    procs.push(first.child);
    const rest = await Promise.all([
      ...Array.from({ length: ingestionCount - 1 }, (_, i) => startRole('ingestion', join(dir, `i${i + 1}`), env)),
      ...Array.from({ length: daemonCount }, (_, i) => startRole('daemon', join(dir, `d${i}`), env)),
    ]);
    procs.push(...rest.map((r) => r.child));
    const ingestion = [first, ...rest.slice(0, ingestionCount - 1)];
    const daemons = rest.slice(ingestionCount - 1);
    await sql.connect();

    const ids = { process_id: randomUUID(), stream_id: randomUUID() };
    await postJson(first.url, 'insert_process', {
      process_id: ids.process_id, exe: 'bench', username: 'bench', realname: 'bench', computer: 'bench', distro: 'linux',
      cpu_brand: 'cpu', tsc_frequency: 1e9, start_time: NOW.toString(), start_ticks: '0', parent_process_id: null, properties: {},
    });
    await postJson(first.url, 'insert_stream', { stream_id: ids.stream_id, process_id: ids.process_id, tags: ['log', 'metrics'], properties: {} });
    const probe = buildBlock(ids.process_id, ids.stream_id, 2000, 'mixed');
    const template = buildBlock(ids.process_id, ids.stream_id, Math.round((2000 * 64 * 1024) / probe.body.byteLength), 'mixed');
    const events = BLOCKS * (template.logs + template.metrics);

    const cpu = async (list: { child: ChildProcess }[]) => (await Promise.all(list.map((p) => cpuSeconds(p.child.pid!)))).reduce((a, b) => a + b, 0);
    const ingestCpu0 = await cpu(ingestion);
    const daemonCpu0 = await cpu(daemons);
    const t0 = performance.now();
    await send(ingestion.map((i) => i.url), template.body, BLOCKS);
    const ingestSeconds = (performance.now() - t0) / 1000;
    const ingestCpu = (await cpu(ingestion)) - ingestCpu0;
    const deadline = Date.now() + Number(process.env.SCALE_OUT_DEADLINE_MS ?? 300_000);
    for (;;) {
      const { rows } = await sql.query<{ n: string | null }>(
        `SELECT sum(num_rows)::text AS n FROM lakehouse_partitions WHERE view_set IN ('log_entries', 'measures') AND view_instance = 'global'`,
      );
      const n = Number(rows[0]?.n ?? 0);
      if (n >= events) {
        if (n !== events) throw new Error(`materialized ${n} events of ${events}: some twice`);
        break;
      }
      if (Date.now() > deadline) throw new Error(`only ${n} of ${events} events materialized in time; daemon said: ${daemons.map((d) => d.output().slice(-3000)).join('\n---\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const etlSeconds = (performance.now() - t0) / 1000;
    const daemonCpu = (await cpu(daemons)) - daemonCpu0;
    return {
      'ingestion events/s (wall)': events / ingestSeconds,
      'ingestion CPU-s per M events': (ingestCpu / events) * 1e6,
      'ingestion events per CPU-s': events / ingestCpu,
      'ingestion compressed MB per CPU-s': (BLOCKS * template.body.byteLength) / 1e6 / ingestCpu,
      'ingested and materialized events/s (wall)': events / etlSeconds,
      'ETL CPU-s per M events': (daemonCpu / events) * 1e6,
      'ETL events per CPU-s': events / daemonCpu,
    };
  } finally {
    await sql.end().catch(() => {});
    await Promise.all(procs.map((p) => stopProcess(p)));
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<Record<string, number | string>> {
  const base = process.env.SIRIUS_BENCH_PG ?? process.env.SIRIUS_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
  const out: Record<string, number | string> = {};
  const ids = { process_id: randomUUID(), stream_id: randomUUID() };
  for (const kind of ['logs', 'metrics'] as const) {
    const b = buildBlock(ids.process_id, ids.stream_id, 4000, kind);
    out[`raw block bytes per ${kind === 'logs' ? 'log' : 'metric'} event (4,000-event block, codec 2)`] = b.body.byteLength / 4000;
  }
  out[`blocks per configuration`] = BLOCKS;
  for (const [i, d] of CONFIGS) {
    const r = await runConfig(base, i, d);
    for (const [k, v] of Object.entries(r)) out[`${i} ingestion, ${d} daemon${d > 1 ? 's' : ''}: ${k}`] = Math.round(v * 100) / 100;
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await run();
  for (const [k, v] of Object.entries(r)) console.log(`  ${k.padEnd(70)} ${v}`);
}
