/**
 * Loads a thread's spans window by window for a timeline canvas: the visible stretch plus half a view each
 * side, as spans or per-pixel aggregates (`lib/timeline-window.ts`). A newer request cancels an older one,
 * and a view that the loaded window already serves asks for nothing.
 */
import type { Table } from 'apache-arrow';
import { query, isAbort } from '../../app/api.js';
import type { PageContext } from '../../app/page.js';
import { col, numberColumn } from '../../lib/arrow-columns.js';
import { spansFromTable } from '../../lib/span-query.js';
import type { SpanColumns } from '../../lib/flame-layout.js';
import { windowSql, paddedWindow, needsReload, slackNs, DETAIL_LIMIT, type Loaded } from '../../lib/timeline-window.js';

/** A window's rows: spans, or per-pixel aggregates (`n` spans each, the longest `longest` ns). */
export interface WindowSpans extends SpanColumns {
  n: Float64Array;
  longest: Float64Array;
}

export interface WindowLoad {
  spans: WindowSpans;
  /** spans in the window */
  total: number;
  detail: boolean;
  loaded: Loaded;
  ms: number;
}

export interface WindowLoader {
  /** loads the window for `view` unless the loaded one serves it */
  fetch(view: { begin: number; end: number }): Promise<void>;
  loaded(): Loaded | null;
}

export function windowLoader(o: {
  ctx: PageContext;
  streamId: string;
  /** epoch ns that view 0 stands for */
  originNs: bigint;
  extent: { begin: number; end: number };
  /** the canvas width, px */
  widthPx(): number;
  onStart?(): void;
  onLoad(r: WindowLoad): void;
  onError(err: unknown): void;
}): WindowLoader {
  let loaded: Loaded | null = null;
  let pending: AbortController | null = null;
  const { extent, originNs } = o;
  return {
    loaded: () => loaded,
    async fetch(view) {
      const v = { begin: Math.max(extent.begin, view.begin), end: Math.min(extent.end, view.end) };
      if (!(v.end > v.begin) || !needsReload(v, loaded)) return;
      pending?.abort();
      const ac = new AbortController();
      pending = ac;
      const abort = () => ac.abort();
      o.ctx.signal.addEventListener('abort', abort);
      const win = paddedWindow(v, extent);
      const widthPx = o.widthPx() * ((win.end - win.begin) / (v.end - v.begin));
      const b = originNs + BigInt(Math.floor(win.begin));
      const e = originNs + BigInt(Math.ceil(win.end)) + 1n;
      // the lakehouse selects spans by begin: start the range early enough for spans running into the window
      const qRange = { begin: Number((b - slackNs(e - b)) / 1_000_000n), end: Number(e / 1_000_000n) + 1 };
      const t0 = performance.now();
      o.onStart?.();
      try {
        const t = await query(windowSql(o.streamId, { begin: b, end: e, widthPx }), qRange, ac.signal);
        if (pending !== ac) return;
        const total = Number(col(t, 'total')?.get(0) ?? 0);
        const detail = total <= DETAIL_LIMIT;
        loaded = { begin: win.begin, end: win.end, detail, viewWidth: v.end - v.begin };
        o.onLoad({ spans: windowSpans(t, originNs), total, detail, loaded, ms: performance.now() - t0 });
      } catch (err) {
        if (!isAbort(err)) o.onError(err);
      } finally {
        o.ctx.signal.removeEventListener('abort', abort);
        if (pending === ac) pending = null;
      }
    },
  };
}

function windowSpans(t: Table, originNs: bigint): WindowSpans {
  const s = spansFromTable(t, originNs);
  return { ...s, n: numberColumn(col(t, 'n')), longest: numberColumn(col(t, 'longest')) };
}

export function emptySpans(): WindowSpans {
  return {
    count: 0, begin: new Float64Array(0), end: new Float64Array(0), depth: new Uint16Array(0), name: new Int32Array(0), names: [],
    n: new Float64Array(0), longest: new Float64Array(0),
  };
}
