/**
 * Bytes the browser game example uploads per minute, with tail sampling on (the default policy, at its
 * default 25 ms frame budget and at 100 ms) and off, in headless Debian Chromium against a real server. Each
 * run plays `BENCH_GAME_SECONDS` (default 25) with three forced 150 ms hitches; bytes are the stored block
 * payloads (LZ4-compressed, as sent) of the game's process, scaled to one minute. Also checks that no slow
 * frame lost its trace: every frame whose `frame_time` exceeds the budget has its `frame` span stored.
 *
 * ```sh
 * npm run bench -- browser-game-bytes
 * ```
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { playGame, query, recordedFrames, startGameStack, type GameStack } from '../../examples/browser-game/test/play.js';

const SECONDS = Number(process.env.BENCH_GAME_SECONDS ?? 25);
const HITCHES = 3;
const DEFAULT_BUDGET_MS = 1.5 * 1000 / 60;

interface Variant {
  label: string;
  params: string;
  /** frames slower than this must keep their trace (undefined: sampling off, everything is sent) */
  budgetMs: number | undefined;
}

const VARIANTS: Variant[] = [
  { label: 'sampling off', params: 'sampling=off', budgetMs: undefined },
  { label: 'sampling on (25 ms budget)', params: '', budgetMs: DEFAULT_BUDGET_MS },
  { label: 'sampling on (100 ms budget)', params: 'budget=100', budgetMs: 100 },
];

async function measure(stack: GameStack, v: Variant): Promise<Record<string, number | string>> {
  const run = randomUUID();
  const { stats } = await playGame(stack, `hitches=${HITCHES}&seconds=${SECONDS}&run=${run}${v.params ? '&' + v.params : ''}`, SECONDS * 1000 + 180_000);
  const [proc] = await query(stack.server, `SELECT process_id FROM processes WHERE property_get(properties, 'run') = '${run}'`);
  if (!proc) throw new Error(`${v.label}: the game process was not recorded`);
  const pid = String(proc.process_id);
  const frames = await recordedFrames(stack.server, pid, stats.frames);
  const bytes = await query(stack.server, `SELECT list_contains(s.tags, 'cpu') AS cpu, sum(b.payload_size)::BIGINT AS bytes
    FROM blocks b JOIN streams s ON s.stream_id = b.stream_id WHERE b.process_id = '${pid}' GROUP BY 1`);
  const total = bytes.reduce((n, r) => n + Number(r.bytes), 0);
  const cpu = Number(bytes.find((r) => r.cpu === true)?.bytes ?? 0);
  const perMinute = 60 / SECONDS;
  const budget = v.budgetMs ?? DEFAULT_BUDGET_MS;
  const slow = frames.times.flatMap((t, i) => (t.value > budget ? [i] : []));
  const lost = slow.filter((i) => !frames.kept.has(i)).length;
  return {
    'frames rendered': stats.frames,
    fps: +(stats.frames / SECONDS).toFixed(1),
    'frame spans stored': frames.kept.size,
    [`slow frames (> ${budget.toFixed(1)} ms) / their traces lost`]: `${slow.length} / ${lost}`,
    'bytes per minute (all blocks)': Math.round(total * perMinute),
    'bytes per minute (cpu blocks)': Math.round(cpu * perMinute),
  };
}

export async function run(): Promise<Record<string, Record<string, number | string> | string>> {
  const dir = await mkdtemp(join(tmpdir(), 'sirius-bench-game-'));
  const stack = await startGameStack({ dataDir: dir, sqlConnectionString: 'memory://', objectStoreUri: 'memory://' });
  const out: Record<string, Record<string, number | string> | string> = {};
  try {
    for (const v of VARIANTS) out[v.label] = await measure(stack, v);
  } finally {
    await stack.close();
    await rm(dir, { recursive: true, force: true });
  }
  const off = out['sampling off'] as Record<string, number>;
  for (const v of VARIANTS.slice(1)) {
    const on = out[v.label] as Record<string, number>;
    out[`ratio off / ${v.label}`] = `${(off['bytes per minute (all blocks)']! / on['bytes per minute (all blocks)']!).toFixed(1)}× all blocks, ${(off['bytes per minute (cpu blocks)']! / on['bytes per minute (cpu blocks)']!).toFixed(1)}× cpu blocks`;
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await run());
