/**
 * Perfetto export of a long trace at 50,000 spans/s (default 10 minutes: 30 M spans): the streamed export
 * (packages/server/src/analytics/perfetto/trace-export.ts) over the whole range, its time and the peak RSS
 * of the process doing it, next to the peer of the same run: the whole-trace-in-memory export it replaced
 * (every row of the range as one Arrow result, then one `perfettoTrace` buffer) over one minute, and the
 * streamed export over that same minute.
 *
 * The lake is made directly: a block row and a payload object for every second of one thread (one encoded
 * second of 60 fps frames, reused: event times are relative to their block). Each export runs in a child
 * process of its own, so its peak RSS (VmHWM) is its own; the first export decodes the span segments from
 * the blocks, the later ones read the cached segments (both figures are printed).
 * `node --conditions=sirius-source --import tsx bench/src/perfetto-export.ts [minutes]`.
 * PostgreSQL when SIRIUS_BENCH_PG (or SIRIUS_TEST_PG) is set, else PGlite.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openLake } from '../../packages/server/src/lake/open-lake.js';
import { createLakehouse } from '../../packages/server/src/lakehouse/index.js';
import { createQueryEngine } from '../../packages/server/src/analytics/query-engine.js';
import { openTraceExport } from '../../packages/server/src/analytics/perfetto/trace-export.js';
import { perfettoTrace } from '../../packages/server/src/analytics/perfetto/index.js';
import type { RowBatch } from '../../packages/server/src/lakehouse/row-batch.js';
import { createDatabase } from './ingestion-server.js';
import { GAME_T0 as T0, writeGameStream } from './game-second.js';

const SPANS_PER_SECOND = 50_000;
const SEC = 1_000_000_000n;
const SELF = fileURLToPath(import.meta.url);

interface ChildJob {
  mode: 'stream' | 'whole';
  dbUrl?: string;
  dir: string;
  processId: string;
  streamId: string;
  begin: string;
  end: string;
}

interface ChildResult {
  ms: number;
  cpuMs: number;
  bytes: number;
  spans: number;
  peakRssMiB: number;
  baseRssMiB: number;
  held?: unknown;
}

const peakRss = (): number => Math.round(Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024);
const rss = (): number => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024);

/** One export in this (child) process; prints its figures as one JSON line. */
async function child(job: ChildJob): Promise<void> {
  const lake = await openLake({ sqlConnectionString: job.dbUrl, dataDir: job.dir, objectStoreUri: `file://${join(job.dir, 'objects')}` });
  const limits = { timeoutMs: 3_600_000, maxRows: 1e9, maxResultBytes: 2 ** 40, resultMemoryBytes: 2 ** 40 };
  const engine = await createQueryEngine({ lake, lakehouse: createLakehouse({ lake, dataDir: job.dir }), cacheDir: join(job.dir, 'cache'), limits });
  const begin = BigInt(job.begin);
  const end = BigInt(job.end);
  const baseRssMiB = rss();
  const cpu0 = process.cpuUsage();
  const t = performance.now();
  let bytes = 0;
  let spans = 0;
  let held: unknown;
  if (job.mode === 'stream') {
    const exp = await openTraceExport(engine, { processId: job.processId, begin, end });
    for await (const piece of exp.pieces()) bytes += piece.length; // a socket would take them here
    spans = exp.stats.rows;
    held = exp.stats;
  } else {
    const { table } = await engine.query(
      `SELECT epoch_ns("begin") AS "begin", epoch_ns("end") AS "end", depth::INTEGER AS depth, name, target, filename, line::INTEGER AS line
       FROM view_instance('thread_spans', '${job.streamId}') WHERE "begin" >= make_timestamp_ns(${begin}::BIGINT) ORDER BY "begin"`,
      { begin, end },
    );
    const rows: RowBatch = {
      columns: table.schema.fields.map((f) => ({ name: f.name, type: String(f.type) })),
      values: table.schema.fields.map((f) => Array.from(table.getChild(f.name)!.toArray() as ArrayLike<unknown>)),
      length: table.numRows,
    };
    bytes = perfettoTrace({ process: { process_id: job.processId, exe: 'bench-game' }, threads: [{ stream_id: job.streamId, name: 'main', rows }] }).length;
    spans = table.numRows;
  }
  const ms = performance.now() - t;
  const cpu = process.cpuUsage(cpu0);
  const out: ChildResult = { ms, cpuMs: (cpu.user + cpu.system) / 1000, bytes, spans, peakRssMiB: peakRss(), baseRssMiB, held };
  console.log(`RESULT ${JSON.stringify(out)}`);
  await engine.close();
  await lake.close();
}

function runChild(job: ChildJob): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--conditions=sirius-source', '--import', 'tsx', SELF, '--child', JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('error', reject);
    c.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) return reject(new Error(`export child (${job.mode}) exited with ${code}: ${out}${err}`));
      resolve(JSON.parse(line.slice(7)) as ChildResult);
    });
  });
}

const r1 = (x: number) => Math.round(x * 10) / 10;

export async function run(minutes = Number(process.env.SIRIUS_BENCH_PERFETTO_MINUTES ?? 10)): Promise<Record<string, number | string>> {
  const base = process.env.SIRIUS_BENCH_PG ?? process.env.SIRIUS_TEST_PG;
  const db = base ? await createDatabase(base) : undefined;
  const dir = await mkdtemp(join(tmpdir(), 'sirius-bench-perfetto-'));
  const out: Record<string, number | string> = { metadata: db ? 'PostgreSQL' : 'PGlite', 'spans per second': SPANS_PER_SECOND, minutes };
  try {
    const seconds = minutes * 60;
    let processId: string;
    let streamId: string;
    {
      const lake = await openLake({ sqlConnectionString: db?.url, dataDir: dir, objectStoreUri: `file://${join(dir, 'objects')}` });
      try {
        const genStart = performance.now();
        const made = await writeGameStream(lake, seconds, SPANS_PER_SECOND);
        ({ processId, streamId } = made);
        out['events per 1 s block'] = made.events;
        out['lake made in (s)'] = r1((performance.now() - genStart) / 1000);
      } finally {
        await lake.close();
      }
    }
    const job = (mode: ChildJob['mode'], b: bigint, e: bigint): ChildJob => ({ mode, dbUrl: db?.url, dir, processId, streamId, begin: String(b), end: String(e) });
    const all = { b: T0, e: T0 + BigInt(seconds) * SEC };
    const minute = { b: T0 + BigInt(Math.floor(seconds / 2)) * SEC, e: T0 + BigInt(Math.floor(seconds / 2) + 60) * SEC };
    const report = (label: string, r: ChildResult) => {
      out[`${label}: spans`] = r.spans;
      out[`${label}: trace bytes (MiB)`] = r1(r.bytes / 2 ** 20);
      out[`${label}: time (s)`] = r1(r.ms / 1000);
      out[`${label}: CPU time of the process (s)`] = r1(r.cpuMs / 1000);
      out[`${label}: spans per second`] = Math.round(r.spans / (r.ms / 1000));
      out[`${label}: peak RSS (MiB)`] = r.peakRssMiB;
      out[`${label}: RSS before the export (MiB)`] = r.baseRssMiB;
    };
    const first = await runChild(job('stream', all.b, all.e));
    report(`streamed, ${minutes} min, first (segments decoded)`, first);
    const again = await runChild(job('stream', all.b, all.e));
    report(`streamed, ${minutes} min, again (segments cached)`, again);
    out[`streamed, ${minutes} min: held at most`] = JSON.stringify(again.held);
    const streamMinute = await runChild(job('stream', minute.b, minute.e));
    report('streamed, 1 min (cached)', streamMinute);
    const wholeMinute = await runChild(job('whole', minute.b, minute.e));
    report('peer: whole trace in memory, 1 min (cached)', wholeMinute);
    out['peak RSS growth: whole 1 min / streamed 1 min (ratio)'] = r1((wholeMinute.peakRssMiB - wholeMinute.baseRssMiB) / Math.max(1, streamMinute.peakRssMiB - streamMinute.baseRssMiB));
    out[`peak RSS: streamed ${minutes} min / streamed 1 min (ratio)`] = r1(again.peakRssMiB / streamMinute.peakRssMiB);
    return out;
  } finally {
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  await child(JSON.parse(process.argv[3]!) as ChildJob);
  process.exit(0);
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const m = Number(process.argv[2]);
  console.log(await run(m > 0 ? m : undefined));
}
