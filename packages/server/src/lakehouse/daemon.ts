/**
 * The lakehouse daemon: every `intervalMs`, turns newly inserted log and metric blocks into partitions of the
 * global views, updates the SQL views fed by them, compacts finished minutes and hours, deletes objects of
 * retired partitions after their grace period (and those whose writer died before committing them), removes
 * scratch files a killed process left and, when a retention is set, expires old data. Each step plans
 * and commits in short transactions under an advisory lock and builds its file between them, so any number of
 * daemons can share a lake and ingestion on a single PGlite session never waits for a Parquet write.
 *
 * @example
 *   const daemon = startDaemon({ lake, dataDir: '.sirius', retention: '90d' });
 *   await daemon.stop();
 */
import { createLog } from '../log.js';
import { materializeBlockView, type StepResult } from './block-view-materializer.js';
import { compactView, purgeRetiredObjects } from './compactor.js';
import { sweepScratch } from './partition-files.js';
import { expireData, parseDuration } from './retention.js';
import { materializeSqlView } from './sql-view-materializer.js';
import { blockViews, globalViews, sqlViews } from './view-definitions.js';
import type { Lake } from '../lake/lake.js';
import { recordEtlLag, traced } from '../self-telemetry.js';

export interface DaemonOptions {
  lake: Lake;
  dataDir: string;
  /** e.g. '90d': data older than this is deleted (default: keep everything) */
  retention?: string;
  /** pause between passes (default 1000 ms) */
  intervalMs?: number;
  /** how far behind the clock materialization stops, ms (default 2000) */
  lagMs?: number;
  /** how long retired partition objects stay readable, ms (default 5 min) */
  graceMs?: number;
  /** how often retention runs, ms (default 10 min) */
  retentionIntervalMs?: number;
  quiet?: boolean;
}

export interface Daemon {
  /** finishes the pass in progress, then stops */
  stop(): Promise<void>;
  /** runs one full pass now (tests); resolves when it is done */
  runOnce(): Promise<void>;
}

/** how often the scratch folder is swept of files a killed process left (the first pass sweeps too) */
const SWEEP_EVERY_MS = 3_600_000;

/** most steps of one kind per pass, so one busy view cannot starve the others */
const MAX_STEPS = 64;

export function startDaemon(opts: DaemonOptions): Daemon {
  const log = createLog('daemon', opts.quiet);
  const retentionNs = opts.retention ? parseDuration(opts.retention) : undefined;
  const step = { dataDir: opts.dataDir, lagNs: BigInt(opts.lagMs ?? 2000) * 1_000_000n };
  const graceNs = BigInt(opts.graceMs ?? 300_000) * 1_000_000n;
  const interval = opts.intervalMs ?? 1000;
  let lastRetention = 0;
  let lastSweep = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const repeat = async (fn: () => Promise<StepResult>) => {
    for (let i = 0; i < MAX_STEPS; i++) if ((await fn()) !== 'progress') return;
  };
  const pass = async () => {
    for (const v of blockViews) await repeat(() => materializeBlockView(opts.lake, v, step));
    for (const v of sqlViews) await repeat(() => materializeSqlView(opts.lake, v, step));
    for (const v of globalViews) await repeat(() => compactView(opts.lake, v, step));
    await purgeRetiredObjects(opts.lake, graceNs);
    if (Date.now() - lastSweep >= SWEEP_EVERY_MS) {
      lastSweep = Date.now();
      const n = await sweepScratch(opts.dataDir);
      if (n > 0) log.info(`removed ${n} scratch files left by a stopped process`);
    }
    if (retentionNs !== undefined && Date.now() - lastRetention >= (opts.retentionIntervalMs ?? 600_000)) {
      lastRetention = Date.now();
      const r = await expireData(opts.lake, retentionNs);
      if (r.blocks + r.partitions + r.streams + r.processes > 0) {
        log.info(`expired ${r.blocks} blocks, ${r.partitions} partitions, ${r.streams} streams, ${r.processes} processes`);
      }
    }
  };
  const runOnce = () => {
    running = running.then(() => traced('lakehouse_pass', pass)).then(() => recordEtlLag(opts.lake)).catch((err) => {
      if (!stopped) log.error('lakehouse pass failed', err);
    });
    return running;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => void runOnce().then(schedule), interval);
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
    runOnce,
  };
}
