/**
 * An instrumented "browser game" for the Frames tab test, run from Node: the process carries the properties
 * the browser SDK sets (browser, os, device…), and it renders `frames` frames with `frame()` (update, render),
 * so each has a `frame_time` measure and, under the default tail sampling, only slow frames and their
 * neighbours keep their `frame` span. One frame (`hitchAt`) hitches for `hitchMs` inside a `hitch` span, so
 * the slowest frame is known.
 */
import { init, shutdown, span, frame } from '@sirius/tracing';

export const FRAMES_RUN = {
  exe: 'e2e-frames',
  frames: 120,
  hitchAt: 60,
  hitchMs: 150,
  properties: {
    runtime: 'browser', browser: 'Chrome', browser_version: '131.0.6778.85', os: 'Android 14', cores: '8',
    device_memory: '8', screen: '412x915', dpr: '2.625', gpu_renderer: 'Adreno (TM) 740', page_origin: 'https://game.example',
    page_path: '/play', session_id: 'e2e-session-1',
  },
} as const;

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* spin: the frame needs a duration */
  }
}

async function main(): Promise<void> {
  init({ exe: FRAMES_RUN.exe, properties: { ...FRAMES_RUN.properties }, runtimeHealth: false });
  for (let i = 0; i < FRAMES_RUN.frames; i++) {
    frame(() => {
      span('update', () => busy(0.5));
      if (i === FRAMES_RUN.hitchAt) span('hitch', () => busy(FRAMES_RUN.hitchMs));
      span('render', () => busy(0.3));
    });
    await new Promise((r) => setTimeout(r, 4));
  }
  if (!(await shutdown({ timeoutMs: 60_000 }))) {
    console.error('frames run: shutdown timed out before the server stored everything');
    process.exit(1);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
