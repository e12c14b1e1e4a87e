/**
 * What every page gets: its route, the shared time range (resolved fresh on each load so live views move),
 * and an abort signal that fires when the user leaves, which cancels its queries and timers.
 */
import type { Route } from './router.js';
import { isLive, resolveRange, type RangeSpec, type ResolvedRange } from '../lib/time-range.js';

export interface PageContext {
  route: Route;
  range: RangeSpec;
  signal: AbortSignal;
}

export type Page = (root: HTMLElement, ctx: PageContext) => void | Promise<void>;

export function resolved(ctx: PageContext): ResolvedRange {
  return resolveRange(ctx.range, Date.now());
}

export const LIVE_REFRESH_MS = 5000;

/**
 * Runs `load` now and, while the range is live, again every few seconds: never two at once, not while the
 * tab is hidden, stopped when the page goes away.
 */
export function liveLoop(ctx: PageContext, load: (first: boolean) => Promise<void>, everyMs = LIVE_REFRESH_MS): void {
  let running = false;
  let first = true;
  const tick = async () => {
    if (running || ctx.signal.aborted || (!first && document.hidden)) return;
    running = true;
    try {
      await load(first);
    } finally {
      first = false;
      running = false;
    }
  };
  void tick();
  if (!isLive(ctx.range)) return;
  const timer = setInterval(tick, everyMs);
  ctx.signal.addEventListener('abort', () => clearInterval(timer));
}
