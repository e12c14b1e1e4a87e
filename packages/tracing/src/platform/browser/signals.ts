/**
 * What the browser itself reports about the page, recorded without any call from the page's code:
 * - Long Animation Frames (`long-animation-frame` entries, Chromium 123+) as thread spans on a cpu stream of
 *   their own (thread_name `long-animation-frames`): a `long-animation-frame` span with one child per script
 *   the browser attributes time to, named by its function (else its invoker), its target the script's URL.
 *   Browsers without them but with `longtask` entries get `longtask` spans instead (both would overlap on one
 *   stream, and spans on a stream must nest).
 * - Web Vitals as metrics (target `web_vitals`, unit ms except CLS): `lcp` when it is final (first input, or
 *   the page hidden), `cls` each time it grows (largest session window: shifts < 1 s apart, window ≤ 5 s),
 *   `inp` each time it grows (the worst interaction, or the 98th percentile beyond 50 interactions).
 * - The JS heap (`performance.memory`, Chromium) every second: `js_heap_used` and `js_heap_total`, bytes.
 * Entries are reported after the fact, with their own times: the synthetic stream's clock is set to each.
 */
import type { Recorder } from '../../core/recorder.js';
import { BEGIN_THREAD, END_THREAD } from '../../core/records.js';

export const LOAF_THREAD_NAME = 'long-animation-frames';
const VITALS_TARGET = 'web_vitals';
const HEAP_TARGET = 'browser';

interface ScriptTiming {
  startTime: number;
  duration: number;
  invoker?: string;
  invokerType?: string;
  sourceURL?: string;
  sourceFunctionName?: string;
}
interface LoafEntry extends PerformanceEntry {
  scripts?: ScriptTiming[];
}
interface LayoutShift extends PerformanceEntry {
  value: number;
  hadRecentInput: boolean;
}
interface EventTiming extends PerformanceEntry {
  interactionId?: number;
}

export interface SignalHost {
  recorder: Recorder;
  /** a cpu stream of its own, whose clock is set per event */
  syntheticThread(name: string): { recorder: Recorder; at(ms: number): void };
}

function supported(type: string): boolean {
  return typeof PerformanceObserver !== 'undefined' && (PerformanceObserver.supportedEntryTypes ?? []).includes(type);
}

function observe(type: string, fn: (entries: PerformanceEntry[]) => void, extra: Record<string, unknown> = {}): PerformanceObserver | undefined {
  if (!supported(type)) return undefined;
  const o = new PerformanceObserver((list) => fn(list.getEntries()));
  try {
    o.observe({ type, buffered: true, ...extra } as PerformanceObserverInit);
  } catch {
    return undefined;
  }
  return o;
}

/** Starts every signal the browser supports; returns a function that stops them. */
export function startBrowserSignals(host: SignalHost): () => void {
  const stops: (() => void)[] = [];
  const rec = host.recorder;
  const metric = (name: string, unit: string, target: string, value: number, float: boolean): void => {
    rec.metric(rec.interner.metric(name, unit, target), value, float, null);
  };

  // long animation frames (or long tasks) on their own stream
  const useLoaf = supported('long-animation-frame');
  if (useLoaf || supported('longtask')) {
    const t = host.syntheticThread(LOAF_THREAD_NAME);
    const r = t.recorder;
    const span = (name: string, target: string, begin: number, end: number, inner?: () => void): void => {
      const d = r.interner.span(name, target, '', 0);
      t.at(begin);
      r.threadSpan(BEGIN_THREAD, d);
      inner?.();
      t.at(end);
      r.threadSpan(END_THREAD, d);
    };
    let last = 0; // spans on one stream must not overlap: an entry starting before the previous end is clipped
    const o = observe(useLoaf ? 'long-animation-frame' : 'longtask', (entries) => {
      for (const e of entries) {
        const begin = Math.max(e.startTime, last);
        const end = Math.max(begin, e.startTime + e.duration);
        last = end;
        const scripts = ((e as LoafEntry).scripts ?? []).slice().sort((a, b) => a.startTime - b.startTime);
        span(e.entryType, 'browser', begin, end, () => {
          let at = begin;
          for (const s of scripts) {
            const sb = Math.min(end, Math.max(at, s.startTime));
            const se = Math.min(end, Math.max(sb, s.startTime + s.duration));
            at = se;
            const name = s.sourceFunctionName || s.invoker || s.invokerType || 'script';
            span(name, s.sourceURL || s.invokerType || 'script', sb, se);
          }
        });
      }
    });
    if (o) stops.push(() => o.disconnect());
  }

  // LCP: the last candidate, final at the first input or when the page is hidden
  let lcp = -1;
  let lcpDone = false;
  const lcpObs = observe('largest-contentful-paint', (entries) => {
    const e = entries[entries.length - 1];
    if (e !== undefined && !lcpDone) lcp = e.startTime;
  });
  const finishLcp = (): void => {
    if (lcpDone || lcp < 0) return;
    lcpDone = true;
    lcpObs?.disconnect();
    metric('lcp', 'ms', VITALS_TARGET, lcp, true);
  };
  if (lcpObs && typeof addEventListener === 'function') {
    for (const type of ['keydown', 'pointerdown']) addEventListener(type, finishLcp, { once: true, capture: true });
    if (typeof document !== 'undefined') document.addEventListener('visibilitychange', finishLcp, { once: true });
    stops.push(() => lcpObs.disconnect());
  }

  // CLS: the largest session window of unexpected layout shifts
  let cls = 0;
  let windowValue = 0;
  let windowStart = -Infinity;
  let lastShift = -Infinity;
  const clsObs = observe('layout-shift', (entries) => {
    for (const e of entries as LayoutShift[]) {
      if (e.hadRecentInput) continue;
      if (e.startTime - lastShift > 1000 || e.startTime - windowStart > 5000) {
        windowValue = 0;
        windowStart = e.startTime;
      }
      windowValue += e.value;
      lastShift = e.startTime;
      if (windowValue > cls) {
        cls = windowValue;
        metric('cls', 'score', VITALS_TARGET, cls, true);
      }
    }
  });
  if (clsObs) stops.push(() => clsObs.disconnect());

  // INP: interactions' longest event durations
  const worst = new Map<number, number>();
  let inp = 0;
  const inpObs = observe('event', (entries) => {
    for (const e of entries as EventTiming[]) {
      const id = e.interactionId ?? 0;
      if (id === 0) continue;
      worst.set(id, Math.max(worst.get(id) ?? 0, e.duration));
    }
    const all = [...worst.values()].sort((a, b) => b - a);
    const value = all[Math.min(all.length - 1, Math.floor(all.length / 50))] ?? 0;
    if (value > inp) {
      inp = value;
      metric('inp', 'ms', VITALS_TARGET, inp, true);
    }
    if (worst.size > 10_000) worst.clear(); // bound memory on very long sessions
  }, { durationThreshold: 16 });
  if (inpObs) stops.push(() => inpObs.disconnect());

  // JS heap, where the browser exposes it
  const mem = (performance as Performance & { memory?: { usedJSHeapSize: number; totalJSHeapSize: number } }).memory;
  if (mem !== undefined) {
    const sample = (): void => {
      metric('js_heap_used', 'bytes', HEAP_TARGET, mem.usedJSHeapSize, false);
      metric('js_heap_total', 'bytes', HEAP_TARGET, mem.totalJSHeapSize, false);
    };
    sample();
    const timer = setInterval(sample, 1000);
    stops.push(() => clearInterval(timer));
  }
  return () => {
    for (const s of stops) s();
  };
}
