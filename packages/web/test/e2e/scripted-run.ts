/**
 * The instrumented program the end-to-end tests watch: a short "game loop" with known logs, metrics and
 * spans, sent through `@sirius/tracing`'s public API to SIRIUS_TELEMETRY_URL. The counts are exported so
 * tests assert against the same numbers.
 */
import { init, info, warn, error, imetric, fmetric, span, shutdown, flush } from '@sirius/tracing';
import { createInterface } from 'node:readline';

export const SCRIPT = {
  exe: 'e2e-game',
  frames: 300,
  /** per frame: frame > (update, render > draw) */
  spanNames: ['frame', 'update', 'render', 'draw'],
  spansPerFrame: 4,
  warnEvery: 10,
  errorEvery: 50,
  metrics: ['entities', 'frame_time'],
} as const;

/** lines logged per stdin line in tail mode */
export const TAIL_LINES = 25;

export const EXPECTED = {
  spans: SCRIPT.frames * SCRIPT.spansPerFrame,
  info: SCRIPT.frames,
  warn: SCRIPT.frames / SCRIPT.warnEvery,
  error: SCRIPT.frames / SCRIPT.errorEvery,
  logs: SCRIPT.frames + SCRIPT.frames / SCRIPT.warnEvery + SCRIPT.frames / SCRIPT.errorEvery,
  measures: SCRIPT.frames * SCRIPT.metrics.length,
};

function busy(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end) {
    /* spin: spans need a duration */
  }
}

async function main(): Promise<void> {
  // SIRIUS_E2E_EXE names a second, otherwise identical run (the live-refresh test)
  init({ exe: process.env.SIRIUS_E2E_EXE ?? SCRIPT.exe, properties: { build: 'e2e', scenario: 'web' }, runtimeHealth: false });
  for (let i = 0; i < SCRIPT.frames; i++) {
    span('frame', () => {
      span('update', () => busy(100));
      span('render', () => span('draw', () => busy(60)));
    });
    info(`tick ${i}`, { target: 'game/loop' });
    if (i % SCRIPT.warnEvery === 0) warn(`slow frame ${i}`, { target: 'game/render' });
    if (i % SCRIPT.errorEvery === 0) error(`e2e failure ${i / SCRIPT.errorEvery}`, { target: 'game/net' });
    imetric('entities', 'count', 100 + i);
    fmetric('frame_time', 'ms', 16 + (i % 5));
    if (i % 100 === 99) await new Promise((r) => setTimeout(r, 20));
  }
  if (process.env.SIRIUS_E2E_TAIL) {
    // the live-tail test: say when the first batch is stored, then log TAIL_LINES more on each stdin line
    await flush({ timeoutMs: 20_000 });
    console.log('ready');
    for await (const _line of createInterface({ input: process.stdin })) {
      for (let k = 0; k < TAIL_LINES; k++) info(`tail line ${k}`, { target: 'game/tail' });
      await flush({ timeoutMs: 20_000 });
      console.log('sent');
    }
  }
  const ok = await shutdown({ timeoutMs: 20_000 });
  if (!ok) {
    console.error('scripted run: shutdown timed out before the server stored everything');
    process.exit(1);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
