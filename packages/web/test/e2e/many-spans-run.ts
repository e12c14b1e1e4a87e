/**
 * An instrumented program with more spans on its main thread than the timeline loads one by one: `frames`
 * frames of frame > (update, render), with no pause between them, so the windowed timeline test sees
 * per-pixel aggregates when zoomed out and single spans when zoomed in.
 */
import { init, shutdown, span } from '@sirius/tracing';

export const MANY = { exe: 'e2e-many-spans', frames: 40_000, spansPerFrame: 3 } as const;

async function main(): Promise<void> {
  init({ exe: MANY.exe, runtimeHealth: false });
  for (let i = 0; i < MANY.frames; i++) {
    span('frame', () => {
      span('update', () => undefined);
      span('render', () => undefined);
    });
    if (i % 5000 === 4999) await new Promise((r) => setTimeout(r, 1));
  }
  if (!(await shutdown({ timeoutMs: 30_000 }))) {
    console.error('many-spans run: shutdown timed out before the server stored everything');
    process.exit(1);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
