/**
 * A thread's spans over the time range: the timeline (time × depth) and the flame graph of the part the
 * timeline shows (call paths merged, width = total time). Both are canvases; the laid-out spans are on
 * `window.__sirius` for tests.
 */
import { h, setChildren, statusBox, debounce } from '../../lib/dom.js';
import { query, describeError, download, isAbort } from '../../app/api.js';
import { resolved, type PageContext } from '../../app/page.js';
import { patchParams } from '../../app/router.js';
import { spansSql, spansFromTable, MAX_SPANS } from '../../lib/span-query.js';
import { buildFlameGraph, type SpanColumns } from '../../lib/flame-layout.js';
import { flameCanvas, type FlameCanvas } from '../../components/flame-canvas.js';
import { debugState } from '../../app/debug.js';
import { formatDuration } from '../../lib/time-range.js';

export interface ThreadStream {
  streamId: string;
  name: string;
}

/** the thread selector's value (and `?thread=`) for every thread at once */
const ALL_THREADS = '*';

export function timelinePanel(ctx: PageContext, threads: ThreadStream[]): HTMLElement {
  const chosen = ctx.route.params.get('thread');
  const select = h('select', { 'aria-label': 'Thread', 'data-testid': 'thread-select' },
    threads.length > 1 ? h('option', { value: ALL_THREADS, selected: chosen === ALL_THREADS }, 'All threads') : null,
    threads.map((t) => h('option', { value: t.streamId, selected: t.streamId === chosen }, t.name)));
  const info = h('span', { class: 'muted', 'aria-live': 'polite', 'data-testid': 'timeline-info' });
  const body = h('div', { class: 'timeline-body' });
  // every thread of the process over the page's range, for Perfetto's UI (ui.perfetto.dev opens the file)
  const range = resolved(ctx);
  const processId = ctx.route.id ?? '';
  const href = `/api/perfetto/${encodeURIComponent(processId)}?begin=${new Date(range.begin).toISOString()}&end=${new Date(range.end).toISOString()}`;
  const perfetto = h('a', {
    class: 'muted',
    'data-testid': 'perfetto-download',
    href,
    download: '',
    // fetched with the API key, if the server asks for one (a followed link cannot send it)
    onclick: (e: Event) => {
      e.preventDefault();
      download(href, `${processId}.perfetto-trace`).catch((err: unknown) => {
        if (!isAbort(err)) info.textContent = `Perfetto trace: ${describeError(err)}`;
      });
    },
  }, 'Perfetto trace');
  const el = h('section', { class: 'panel', 'aria-label': 'Thread timeline' },
    h('div', { class: 'toolbar' }, h('label', { class: 'inline' }, 'Thread ', select), h('span', { class: 'spacer' }), info,
      h('span', { class: 'muted hint' }, 'drag to pan · wheel or +/- to zoom · double-click a span · 0 resets'), perfetto),
    body);
  let canvases: FlameCanvas[] = [];
  ctx.signal.addEventListener('abort', () => canvases.forEach((c) => c.destroy()));

  if (threads.length === 0) {
    setChildren(body, statusBox('empty', 'This process sent no CPU trace (no thread stream with spans) in this time range.'));
    return el;
  }

  const load = async () => {
    const streamId = select.value;
    if (streamId === ALL_THREADS) return loadAll();
    patchParams({ thread: streamId });
    canvases.forEach((c) => c.destroy());
    canvases = [];
    setChildren(body, statusBox('loading', 'Loading spans…'));
    try {
      const t = await query(spansSql(streamId), resolved(ctx), ctx.signal);
      const spans = spansFromTable(t);
      if (spans.count === 0) {
        setChildren(body, statusBox('empty', 'No spans on this thread in this time range.'));
        info.textContent = '';
        return;
      }
      info.textContent = `${spans.count.toLocaleString()} spans${spans.count >= MAX_SPANS ? ' (first million)' : ''}`;
      show(spans);
    } catch (err) {
      if (!isAbort(err)) setChildren(body, statusBox('error', `Could not load spans: ${describeError(err)}`));
    }
  };

  const show = (spans: SpanColumns & { originNs: bigint }) => {
    const dbg = debugState();
    dbg.frameTimes = [];
    dbg.timeline = {
      count: spans.count,
      names: spans.names,
      spans: () => Array.from({ length: spans.count }, (_, i) => ({
        name: spans.names[spans.name[i]!]!, depth: spans.depth[i]!, begin: spans.begin[i]!, end: spans.end[i]!,
      })),
    };
    const flameSlot = h('div', { class: 'flame-slot' });
    const flameInfo = h('span', { class: 'muted' });
    let flame: FlameCanvas | null = null;
    const timeline = flameCanvas({
      spans, label: `Timeline of ${spans.count} spans`, testId: 'timeline-canvas', axis: true,
      describe: (i) => `${formatDuration(spans.end[i]! - spans.begin[i]!)} · depth ${spans.depth[i]}`,
      onFrame: (ms) => {
        const f = dbg.frameTimes!;
        f.push(ms);
        if (f.length > 600) f.shift();
      },
      onViewChange: debounce((v: { begin: number; end: number }) => rebuildFlame(v), 250),
    });
    dbg.timelineView = { view: timeline.view, setView: timeline.setView, draw: timeline.draw };
    const rebuildFlame = (v: { begin: number; end: number }) => {
      const sub = subset(spans, v.begin, v.end);
      const fg = buildFlameGraph(sub);
      dbg.flame = {
        count: fg.count,
        nodes: () => Array.from({ length: fg.count }, (_, i) => ({ name: fg.names[fg.name[i]!]!, depth: fg.depth[i]!, value: fg.end[i]! - fg.begin[i]!, calls: fg.calls[i]! })),
      };
      flame?.destroy();
      flame = flameCanvas({
        spans: fg, label: `Flame graph of ${fg.count} call paths`, testId: 'flame-canvas',
        describe: (i) => `${formatDuration(fg.end[i]! - fg.begin[i]!)} total · ${fg.calls[i]!.toLocaleString()} call${fg.calls[i] === 1 ? '' : 's'}`,
      });
      canvases = [timeline, flame];
      flameInfo.textContent = `${sub.count.toLocaleString()} spans in view, ${fg.count.toLocaleString()} call paths`;
      setChildren(flameSlot, flame.el);
    };
    setChildren(body,
      h('h3', { class: 'sub' }, 'Timeline'), timeline.el,
      h('h3', { class: 'sub' }, 'Flame graph ', flameInfo), flameSlot);
    canvases = [timeline];
    rebuildFlame(timeline.view());
  };

  /**
   * Every thread at once, one timeline each on a common time axis, panned and zoomed together: what the
   * render thread did while the main thread waited. (A flame graph is per thread: pick one for it.)
   */
  const loadAll = async () => {
    patchParams({ thread: ALL_THREADS });
    canvases.forEach((c) => c.destroy());
    canvases = [];
    setChildren(body, statusBox('loading', 'Loading spans of every thread…'));
    try {
      const perThread = Math.floor(MAX_SPANS / threads.length);
      const tables = await Promise.all(threads.map((t) => query(spansSql(t.streamId, perThread), resolved(ctx), ctx.signal)));
      const lanes = threads.map((t, k) => ({ thread: t, spans: spansFromTable(tables[k]!) })).filter((l) => l.spans.count > 0);
      if (lanes.length === 0) {
        setChildren(body, statusBox('empty', 'No spans on any thread in this time range.'));
        info.textContent = '';
        return;
      }
      // one origin for all: each thread's times are relative to its own first span
      const origin = lanes.reduce((m, l) => (l.spans.originNs < m ? l.spans.originNs : m), lanes[0]!.spans.originNs);
      let begin = Infinity;
      let end = -Infinity;
      for (const { spans } of lanes) {
        const shift = Number(spans.originNs - origin);
        for (let i = 0; i < spans.count; i++) {
          spans.begin[i]! += shift;
          spans.end[i]! += shift;
          if (spans.begin[i]! < begin) begin = spans.begin[i]!;
          if (spans.end[i]! > end) end = spans.end[i]!;
        }
      }
      const extent = { begin, end: end > begin ? end : begin + 1 };
      let syncing = false;
      const follow = (from: number, v: { begin: number; end: number }) => {
        if (syncing) return;
        syncing = true;
        try {
          canvases.forEach((c, k) => k !== from && c.setView(v.begin, v.end));
        } finally {
          syncing = false;
        }
      };
      canvases = lanes.map(({ thread, spans }, k) => flameCanvas({
        spans, label: `Timeline of ${thread.name}: ${spans.count} spans`, testId: 'thread-canvas', axis: k === 0, extent, view: extent,
        describe: (i) => `${formatDuration(spans.end[i]! - spans.begin[i]!)} · depth ${spans.depth[i]}`,
        onViewChange: (v) => follow(k, v),
      }));
      debugState().threads = {
        names: lanes.map((l) => l.thread.name), counts: lanes.map((l) => l.spans.count), firstBegins: lanes.map((l) => l.spans.begin[0]!),
        views: () => canvases.map((c) => c.view()),
      };
      const total = lanes.reduce((n, l) => n + l.spans.count, 0);
      info.textContent = `${total.toLocaleString()} spans on ${lanes.length} thread${lanes.length === 1 ? '' : 's'}`;
      setChildren(body, ...lanes.flatMap(({ thread, spans }, k) => [
        h('h3', { class: 'sub' }, thread.name, ' ', h('span', { class: 'muted' }, `${spans.count.toLocaleString()} spans${spans.count >= perThread ? ' (first ones)' : ''}`)),
        canvases[k]!.el,
      ]));
    } catch (err) {
      if (!isAbort(err)) setChildren(body, statusBox('error', `Could not load spans: ${describeError(err)}`));
    }
  };

  select.addEventListener('change', () => void load());
  void load();
  return el;
}

/** The spans overlapping [b, e), as new columns (names shared). */
function subset(s: SpanColumns, b: number, e: number): SpanColumns {
  const keep: number[] = [];
  for (let i = 0; i < s.count; i++) if (s.end[i]! > b && s.begin[i]! < e) keep.push(i);
  if (keep.length === s.count) return s;
  const pick = <T extends Float64Array | Uint16Array | Int32Array>(a: T, out: T) => {
    keep.forEach((i, k) => (out[k] = a[i]!));
    return out;
  };
  return {
    count: keep.length,
    begin: pick(s.begin, new Float64Array(keep.length)),
    end: pick(s.end, new Float64Array(keep.length)),
    depth: pick(s.depth, new Uint16Array(keep.length)),
    name: pick(s.name, new Int32Array(keep.length)),
    names: s.names,
  };
}
