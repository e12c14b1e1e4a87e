/**
 * `window.__sirius`: what the pages laid out, for end-to-end tests and benchmarks to check against known
 * data (the flame graph's spans, the log viewer's row count) without scraping pixels.
 */
export interface SiriusDebug {
  /** the thread timeline's loaded window: spans one by one (`mode` 'spans') or per-pixel aggregates of `n` spans */
  timeline?: {
    count: number;
    names: string[];
    mode?: 'spans' | 'aggregates';
    /** spans in the loaded window */
    total?: number;
    /** windows loaded so far, and ms the last one took from request to layout */
    loads?: number;
    loadMs?: number;
    /** the loaded window, ns relative to the thread's first span */
    window?: { begin: number; end: number };
    spans(): { name: string; depth: number; begin: number; end: number; n?: number }[];
  };
  /** the Frames tab: frame counts and the slowest frames with their linked spans */
  frames?: { frames: number; slow: number; budget: number; buckets: number; rows: { ms: number; streamId: string; beginNs: string; endNs: string; time: number }[] };
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
