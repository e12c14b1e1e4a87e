/**
 * Cost on the calling thread, in ns per event, of @sirius/tracing's `info`, `imetric`, `fmetric` and `span`
 * (begin + end = two events), next to `performance.now()` itself, a pino log line (synchronous destination
 * to /dev/null; with a field, to a file and to Sirius through `@sirius/tracing/pino`) and an OpenTelemetry span (BasicTracerProvider + BatchSpanProcessor, exporter that drops),
 * all in one process and one run, with warm-up; rounds interleaved, median kept. Two harness shapes, both
 * printed: the table (every case called through one call site) and each Sirius case in a loop of its own
 * (`(own loop)`, 2 M calls, best of 5), next to a clock read measured the same way.
 * Standalone: `node --import tsx bench/src/tracing-overhead.ts`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChildJson, withServer } from './tracing-child.js';

export interface OverheadResult {
  ns_per_event: Record<string, number>;
  ratios: Record<string, number>;
}

const ROUNDS = 7;
const OPS = 500_000;

async function measure(): Promise<Record<string, number>> {
  const tracing = await import('@sirius/tracing');
  const { default: pino } = await import('pino');
  const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  tracing.init({ exe: 'bench-tracing-overhead' });
  const logger = pino(pino.destination({ dest: '/dev/null', sync: true }));
  // the pino bridge (@sirius/tracing/pino) next to pino writing to a real file
  const { siriusPino } = await import('@sirius/tracing/pino');
  const toSirius = pino(siriusPino());
  const logFile = join(await mkdtemp(join(tmpdir(), 'sirius-bench-pino-')), 'app.log');
  const toFile = pino(pino.destination({ dest: logFile, sync: true }));
  const drop = { export: (_s: unknown, cb: (r: { code: number }) => void) => cb({ code: 0 }), shutdown: async () => {} };
  const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(drop as never)] });
  const tracer = provider.getTracer('bench');
  const noop = (): void => {};
  let sink = 0;
  // events per op: span() is a begin and an end
  const cases: Record<string, [number, (i: number) => void]> = {
    'performance.now': [1, () => { sink += performance.now(); }],
    'sirius info': [1, () => tracing.info('player moved')],
    'sirius imetric': [1, (i) => tracing.imetric('entities', 'count', i)],
    'sirius fmetric': [1, (i) => tracing.fmetric('frame_time', 'ms', i * 0.5)],
    'sirius span': [2, () => tracing.span('update', noop)],
    'pino info': [1, () => logger.info('player moved')],
    'pino → file': [1, (i) => toFile.info({ i }, 'player moved')],
    'pino → sirius': [1, (i) => toSirius.info({ i }, 'player moved')],
    'otel span': [1, () => tracer.startSpan('update').end()],
  };
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let round = -1; round < ROUNDS; round++) {
    for (const [name, [events, fn]] of Object.entries(cases)) {
      const n = round < 0 ? OPS / 5 : OPS;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) fn(i);
      const dt = Number(process.hrtime.bigint() - t0);
      if (round >= 0) samples[name]!.push(dt / n / events);
    }
    globalThis.gc?.();
  }
  Object.assign(samples, monomorphic(tracing));
  await tracing.shutdown({ timeoutMs: 20_000 });
  await provider.shutdown();
  await rm(dirname(logFile), { recursive: true, force: true });
  if (sink === 0) console.error('(clock sum was 0)');
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, k.endsWith(MONO) ? best(v) : median(v)]));
}

const MONO = ' (own loop)';
const MONO_OPS = 2_000_000;
const MONO_ROUNDS = 5;

/**
 * The other harness shape: each case in a loop of its own, written out so its call site sees one function
 * (the table above calls every case through one site, which V8 cannot inline). 2 M calls per case, rounds
 * interleaved across cases, best of 5: what a tight game loop calling the library sees.
 */
function monomorphic(tracing: typeof import('@sirius/tracing')): Record<string, number[]> {
  const noop = (): void => {};
  let sink = 0;
  const loops: Record<string, [number, () => void]> = {
    'performance.now': [1, () => { let s = 0; for (let i = 0; i < MONO_OPS; i++) s += performance.now(); sink += s; }],
    'sirius info': [1, () => { for (let i = 0; i < MONO_OPS; i++) tracing.info('player moved'); }],
    'sirius imetric': [1, () => { for (let i = 0; i < MONO_OPS; i++) tracing.imetric('entities', 'count', i); }],
    'sirius fmetric': [1, () => { for (let i = 0; i < MONO_OPS; i++) tracing.fmetric('frame_time', 'ms', i * 0.5); }],
    'sirius span': [2, () => { for (let i = 0; i < MONO_OPS; i++) tracing.span('update', noop); }],
  };
  const out: Record<string, number[]> = Object.fromEntries(Object.keys(loops).map((k) => [k + MONO, []]));
  for (let round = -1; round < MONO_ROUNDS; round++) {
    for (const [name, [events, loop]] of Object.entries(loops)) {
      const t0 = process.hrtime.bigint();
      loop();
      const dt = Number(process.hrtime.bigint() - t0);
      if (round >= 0) out[name + MONO]!.push(dt / MONO_OPS / events);
    }
    globalThis.gc?.();
  }
  if (sink === 0) console.error('(clock sum was 0)');
  return out;
}

function best(v: number[]): number {
  return Math.round(Math.min(...v) * 10) / 10;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return Math.round(s[Math.floor(s.length / 2)]! * 10) / 10;
}

export async function run(): Promise<OverheadResult> {
  const ns = await withServer((server) =>
    runChildJson<Record<string, number>>(fileURLToPath(import.meta.url), { SIRIUS_TELEMETRY_URL: server.url, SIRIUS_BENCH_CHILD: '1' }),
  );
  const clock = ns['performance.now']!;
  const r = (x: number): number => Math.round(x * 100) / 100;
  const ratios: Record<string, number> = {};
  const monoClock = ns['performance.now' + MONO]!;
  for (const k of ['sirius info', 'sirius imetric', 'sirius fmetric', 'sirius span']) {
    ratios[`${k} / performance.now`] = r(ns[k]! / clock);
    ratios[`${k} / performance.now${MONO}`] = r(ns[k + MONO]! / monoClock);
  }
  ratios['pino info / sirius info'] = r(ns['pino info']! / ns['sirius info']!);
  ratios['pino → sirius / pino → file'] = r(ns['pino → sirius']! / ns['pino → file']!);
  ratios['otel span / sirius span (per span)'] = r(ns['otel span']! / (2 * ns['sirius span']!));
  return { ns_per_event: ns, ratios };
}

if (process.env.SIRIUS_BENCH_CHILD === '1') {
  console.log(JSON.stringify(await measure()));
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(await run(), null, 2));
}
