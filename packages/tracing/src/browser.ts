/**
 * @sirius/tracing in browsers: the same API as in Node (this module re-exports src/index.ts, which the SDK
 * bundle compiles against platform/browser/ instead of platform/node/), plus what only pages have:
 * `trackAnimationFrames()`, and browser-only `init` options. Built into one ES module,
 * dist/browser/tracing.js, which `sirius serve` serves at `GET /sdk/tracing.js`.
 *
 * @example
 * import * as sirius from 'http://127.0.0.1:9000/sdk/tracing.js';
 * sirius.init();                    // sends to the server the SDK came from
 * sirius.trackAnimationFrames();    // every requestAnimationFrame turn is a frame
 * sirius.info('level loaded', { target: 'game' });
 */
import { beginFrame, endFrame, init as initAnywhere, type InitOptions } from './index.js';
// the module index.ts gets in place of platform/node/runtime.js in the bundle (one module, by path)
import { flushForUnload, senderState } from './platform/browser/runtime.js';

export * from './index.js';
export { BROWSER_PROPERTY_NAMES, parseUserAgent } from './platform/browser/process-info.js';

export interface BrowserInitOptions extends InitOptions {
  /** keep the page's query string in the `page_path` process property (default false: it often holds tokens) */
  includeQuery?: boolean;
}

/**
 * Starts sending (see the Node `init`). In a browser: `url` defaults to the server that served the SDK
 * (`…/sdk/tracing.js`), else `http://127.0.0.1:9000`; `apiKey` is an ingestion key (write-only: safe in a
 * page); `runtimeHealth: false` turns off Long Animation Frames, Web Vitals and heap sampling.
 */
export function init(options: BrowserInitOptions = {}): void {
  initAnywhere(options);
}

let tracking: (() => void) | undefined;

/**
 * Makes each requestAnimationFrame turn a frame (`beginFrame()` at every turn, which ends the previous one),
 * with no other change to the game loop. Call it before the game's own loop starts, so its callback runs first
 * in each turn. A hidden page gets no animation frames: the open frame ends when the page is hidden. Returns
 * a function that stops tracking.
 * @example const stop = trackAnimationFrames();
 */
export function trackAnimationFrames(): () => void {
  if (tracking !== undefined) return tracking;
  if (typeof requestAnimationFrame !== 'function') throw new Error('sirius tracing: trackAnimationFrames needs requestAnimationFrame (a page, not a worker)');
  let handle = 0;
  let open = false;
  const turn = (): void => {
    beginFrame();
    open = true;
    handle = requestAnimationFrame(turn);
  };
  const onHidden = (): void => {
    if (document.visibilityState === 'hidden' && open) {
      endFrame();
      open = false;
    }
  };
  document.addEventListener('visibilitychange', onHidden);
  handle = requestAnimationFrame(turn);
  tracking = () => {
    cancelAnimationFrame(handle);
    document.removeEventListener('visibilitychange', onHidden);
    if (open) endFrame();
    open = false;
    tracking = undefined;
  };
  return tracking;
}

/**
 * How this page sends: `mode` is `worker` (a Web Worker), `page` (on the main thread, when no worker could
 * start: `fallbackReason` says why) or `starting`; `boundBytes` is what counts against `maxBufferBytes`,
 * `droppedEvents` what the page dropped. Undefined before `init()`.
 */
export function senderStatus(): ReturnType<typeof senderState> {
  return senderState();
}

/** Sends what the page holds now in keepalive requests, as on `pagehide` (for pages that leave by other means). */
export function flushBeforeUnload(): { sent: number; dropped: number; requests: number } | undefined {
  return flushForUnload();
}
