/**
 * `window.__sirius`: what the pages laid out, for end-to-end tests and benchmarks to check against known
 * data (the flame graph's spans, the log viewer's row count) without scraping pixels.
 */
export interface SiriusDebug {
  timeline?: { count: number; names: string[]; spans(): { name: string; depth: number; begin: number; end: number }[] };
  flame?: { count: number; nodes(): { name: string; depth: number; value: number; calls: number }[] };
  logs?: { total: number; loadedPages: number };
  /** ms per frame of the last flame-graph draws */
  frameTimes?: number[];
  /** the timeline canvas's view controls, for the panning benchmark */
  timelineView?: { view(): { begin: number; end: number }; setView(b: number, e: number): void; draw(): number };
  /** the all-threads timeline: one entry per thread shown */
  threads?: { names: string[]; counts: number[]; firstBegins: number[]; views(): { begin: number; end: number }[] };
  [k: string]: unknown;
}

declare global {
  interface Window {
    __sirius: SiriusDebug;
  }
}

export function exposeDebug(): void {
  window.__sirius = {};
}

export function debugState(): SiriusDebug {
  return window.__sirius;
}
