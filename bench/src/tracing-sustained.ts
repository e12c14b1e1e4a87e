/**
 * Sustained rate from one instrumented Node process into a real server (ingestion in the parent, PGlite +
 * file store): the child emits thread spans, metrics and logs at a paced rate (SIRIUS_BENCH_RATE, default
 * 1 M events/s; 0 = unpaced) for a few seconds, then
 * flushes; the parent counts the events the server stored. Reports events/s emitted, events/s delivered
 * end to end, events lost (must be 0, or reported as dropped), and the child's peak RSS.
 * Standalone: `node --import tsx bench/src/tracing-sustained.ts`.
 */
import { fileURLToPath } from 'node:url';
import { runChildJson, withServer } from './tracing-child.js';

const SECONDS = Number(process.env.SIRIUS_BENCH_SECONDS ?? 5);
/** events/s the child paces itself to (0: as fast as it can, which overruns the pipeline and drops under the bound) */
const RATE = Number(process.env.SIRIUS_BENCH_RATE ?? 1_000_000);

interface ChildResult { sent: number; emitSeconds: number; totalSeconds: number; peakRss: number; baseRss: number; flushed: boolean }

async function emit(): Promise<ChildResult> {
  const tracing = await import('@sirius/tracing');
  const baseRss = process.memoryUsage().rss;
  tracing.init({ exe: 'bench-tracing-sustained' });
  let peakRss = baseRss;
  const t0 = performance.now();
  let sent = 0;
  const noop = (): void => {};
  while (performance.now() - t0 < SECONDS * 1000) {
    // a slice of work, then yield so timers and the sender's replies run, as a real program would
    for (let i = 0; i < 20_000; i++) {
      tracing.span('work', noop);
      tracing.imetric('items', 'count', i);
      if ((i & 15) === 0) tracing.info('progress');
    }
    sent += 20_000 * 3 + 1250;
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const ahead = RATE > 0 ? t0 + (sent / RATE) * 1000 - performance.now() : 0;
    await new Promise((r) => (ahead > 1 ? setTimeout(r, ahead) : setImmediate(r)));
  }
  const emitSeconds = (performance.now() - t0) / 1000;
  const flushed = await tracing.shutdown({ timeoutMs: 120_000 });
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  return { sent, emitSeconds, totalSeconds: (performance.now() - t0) / 1000, peakRss, baseRss, flushed };
}

export async function run(): Promise<Record<string, number | boolean>> {
  return withServer(async (server) => {
    const r = await runChildJson<ChildResult>(fileURLToPath(import.meta.url), { SIRIUS_TELEMETRY_URL: server.url, SIRIUS_BENCH_CHILD: '1' });
    const [row] = await server.lake.sql.query<{ n: string | number }>('SELECT coalesce(sum(nb_objects), 0) AS n FROM blocks');
    const stored = Number(row!.n);
    return {
      target_rate: RATE,
      events_sent: r.sent,
      events_stored: stored,
      // stored also counts the few sirius.dropped_events reports, so lost is sent - stored + reports (≥ this)
      lost: Math.max(0, r.sent - stored),
      flushed: r.flushed,
      emitted_per_s: Math.round(r.sent / r.emitSeconds),
      delivered_per_s: Math.round(stored / r.totalSeconds),
      peak_rss_mib: Math.round(r.peakRss / 1048576),
      rss_growth_mib: Math.round((r.peakRss - r.baseRss) / 1048576),
    };
  });
}

if (process.env.SIRIUS_BENCH_CHILD === '1') {
  console.log(JSON.stringify(await emit()));
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(await run(), null, 2));
}
