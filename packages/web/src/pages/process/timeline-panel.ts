/**
 * A thread's spans over the time range: the timeline (time × depth) and the flame graph of the part the
 * timeline shows (call paths merged, width = total time). Both are canvases; the laid-out spans are on
 * `window.__sirius` for tests. One thread is read window by window (`lib/timeline-window.ts`): only the
 * visible stretch, as spans when zoomed in and as per-pixel aggregates computed by the server when zoomed
 * out; the view is in the URL (`?zoom=<begin ns>-<end ns>`).
 */
import { h, setChildren, statusBox, debounce } from '../../lib/dom.js';
import { query, describeError, download, isAbort } from '../../app/api.js';
import { resolved, type PageContext } from '../../app/page.js';
import { patchParams } from '../../app/router.js';
import { extentSql, DETAIL_LIMIT, type Loaded } from '../../lib/timeline-window.js';
import { windowLoader, emptySpans, type WindowSpans } from './window-loader.js';
import { parseZoom, formatZoom } from '../../lib/frames-query.js';
import { col } from '../../lib/arrow-columns.js';
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
  // by default the main thread (runtimes add threads of their own, such as `gc`), else the first one
  const chosen = ctx.route.params.get('thread') ?? (threads.find((t) => t.name === 'main') ?? threads[0])?.streamId;
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
      const ext = await query(extentSql(streamId), resolved(ctx), ctx.signal);
      const blocks = Number(col(ext, 'n')?.get(0) ?? 0);
      if (blocks === 0 || col(ext, 'b')?.get(0) == null) {
        setChildren(body, statusBox('empty', 'No spans on this thread in this time range.'));
        info.textContent = '';
        return;
      }
      const originNs = BigInt(String(col(ext, 'b')!.get(0)));
      const lastNs = BigInt(String(col(ext, 'e')!.get(0)));
      // the current URL's, not the route's: switching threads keeps the stretch of time in view
      const zoom = parseZoom(new URLSearchParams(location.search).get('zoom'));
      showWindowed(streamId, originNs, Number(lastNs - originNs),
        zoom ? { begin: Number(zoom.begin - originNs), end: Number(zoom.end - originNs) } : null);
    } catch (err) {
      if (!isAbort(err)) setChildren(body, statusBox('error', `Could not load spans: ${describeError(err)}`));
    }
  };

  /**
   * One thread, read by window: the canvas keeps what it has while the next window loads (debounced after
   * pan and zoom); a window with more than DETAIL_LIMIT spans comes back as per-pixel aggregates.
   */
  const showWindowed = (streamId: string, originNs: bigint, lastRel: number, zoomView: { begin: number; end: number } | null) => {
    const dbg = debugState();
    dbg.frameTimes = [];
    const extent = { begin: 0, end: lastRel > 0 ? lastRel : 1 };
    let current: WindowSpans = emptySpans();
    let loaded: Loaded | null = null;
    let loads = 0;
    const flameSlot = h('div', { class: 'flame-slot' });
    const flameInfo = h('span', { class: 'muted' });
    let flame: FlameCanvas | null = null;
    const timeline = flameCanvas({
      spans: current, label: 'Thread timeline', testId: 'timeline-canvas', axis: true, extent,
      view: zoomView ?? extent,
      describe: (i) => current.n[i]! > 1
        ? `${current.n[i]!.toLocaleString()} spans · longest ${formatDuration(current.longest[i]!)} · depth ${current.depth[i]}`
        : `${formatDuration(current.end[i]! - current.begin[i]!)} · depth ${current.depth[i]}`,
      onFrame: (ms) => {
        const f = dbg.frameTimes!;
        f.push(ms);
        if (f.length > 600) f.shift();
      },
      onViewChange: debounce((v: { begin: number; end: number }) => {
        // the view is in the URL, so a zoomed timeline is a link (the Frames tab links here this way)
        const whole = v.begin <= extent.begin && v.end >= extent.end;
        patchParams({ zoom: whole ? null : formatZoom({ begin: originNs + BigInt(Math.round(v.begin)), end: originNs + BigInt(Math.round(v.end)) }) });
        rebuildFlame(v);
        void fetchWindow(v);
      }, 200),
    });
    dbg.timelineView = { view: timeline.view, setView: timeline.setView, draw: timeline.draw };
    const rebuildFlame = (v: { begin: number; end: number }) => {
      flame?.destroy();
      flame = null;
      canvases = [timeline];
      if (!loaded) return;
      if (!loaded.detail) {
        dbg.flame = undefined;
        flameInfo.textContent = '';
        setChildren(flameSlot, statusBox('empty', `The flame graph needs every span: zoom in to ${DETAIL_LIMIT.toLocaleString()} spans or fewer.`));
        return;
      }
      const sub = subset(current, v.begin, v.end);
      const fg = buildFlameGraph(sub);
      dbg.flame = {
        count: fg.count,
        nodes: () => Array.from({ length: fg.count }, (_, i) => ({ name: fg.names[fg.name[i]!]!, depth: fg.depth[i]!, value: fg.end[i]! - fg.begin[i]!, calls: fg.calls[i]! })),
      };
      flame = flameCanvas({
        spans: fg, label: `Flame graph of ${fg.count} call paths`, testId: 'flame-canvas',
        describe: (i) => `${formatDuration(fg.end[i]! - fg.begin[i]!)} total · ${fg.calls[i]!.toLocaleString()} call${fg.calls[i] === 1 ? '' : 's'}`,
      });
      canvases = [timeline, flame];
      flameInfo.textContent = `${sub.count.toLocaleString()} spans in view, ${fg.count.toLocaleString()} call paths`;
      setChildren(flameSlot, flame.el);
    };
    const loader = windowLoader({
      ctx, streamId, originNs, extent,
      widthPx: () => timeline.el.clientWidth || 1200,
      onStart: () => (info.textContent = `${info.textContent?.replace(/ · loading…$/, '') ?? ''} · loading…`),
      onError: (err) => (info.textContent = `Could not load spans: ${describeError(err)}`),
      onLoad: (r) => {
        if (r.total === 0 && loaded === null && zoomView === null) {
          // blocks but no span in them (a stream of another kind of event, or only begins and ends outside the range)
          setChildren(body, statusBox('empty', 'No spans on this thread in this time range.'));
          info.textContent = '';
          return;
        }
        current = r.spans;
        loaded = r.loaded;
        loads++;
        timeline.setSpans(current);
        timeline.canvas.setAttribute('aria-label', `Timeline: ${r.total.toLocaleString()} spans in view`);
        const spans = current;
        dbg.timeline = {
          count: spans.count,
          names: spans.names,
          mode: r.detail ? 'spans' : 'aggregates',
          total: r.total,
          loads,
          loadMs: r.ms,
          window: { begin: r.loaded.begin, end: r.loaded.end },
          spans: () => Array.from({ length: spans.count }, (_, i) => ({
            name: spans.names[spans.name[i]!]!, depth: spans.depth[i]!, begin: spans.begin[i]!, end: spans.end[i]!, n: spans.n[i]!,
          })),
        };
        info.textContent = r.detail
          ? `${r.total.toLocaleString()} spans in this window`
          : `${r.total.toLocaleString()} spans in this window, as per-pixel aggregates`;
        rebuildFlame(timeline.view());
      },
    });
    const fetchWindow = (v: { begin: number; end: number }) => loader.fetch(v);
    setChildren(body,
      h('h3', { class: 'sub' }, 'Timeline'), timeline.el,
      h('h3', { class: 'sub' }, 'Flame graph ', flameInfo), flameSlot);
    canvases = [timeline];
    void fetchWindow(timeline.view());
  };

  /**
   * Every thread at once, one timeline each on a common time axis, panned and zoomed together: what the
   * render thread did while the main thread waited. Each lane reads its own window of the shared view.
   * (A flame graph is per thread: pick one for it.)
   */
  const loadAll = async () => {
    patchParams({ thread: ALL_THREADS });
    canvases.forEach((c) => c.destroy());
    canvases = [];
    setChildren(body, statusBox('loading', 'Loading spans of every thread…'));
    try {
      const exts = await Promise.all(threads.map((t) => query(extentSql(t.streamId), resolved(ctx), ctx.signal)));
      const present = threads
        .map((thread, k) => ({ thread, b: col(exts[k]!, 'b')?.get(0), e: col(exts[k]!, 'e')?.get(0) }))
        .filter((x) => x.b != null && x.e != null)
        .map((x) => ({ thread: x.thread, b: BigInt(String(x.b)), e: BigInt(String(x.e)) }));
      if (present.length === 0) {
        setChildren(body, statusBox('empty', 'No spans on any thread in this time range.'));
        info.textContent = '';
        return;
      }
      // one origin and one extent for all, so the same view means the same stretch of time on every lane
      const originNs = present.reduce((m, x) => (x.b < m ? x.b : m), present[0]!.b);
      const lastNs = present.reduce((m, x) => (x.e > m ? x.e : m), present[0]!.e);
      const extent = { begin: 0, end: lastNs > originNs ? Number(lastNs - originNs) : 1 };
      const zoom = parseZoom(new URLSearchParams(location.search).get('zoom'));
      const view = zoom ? { begin: Number(zoom.begin - originNs), end: Number(zoom.end - originNs) } : extent;
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
      const fetchAll = debounce(() => {
        const v = canvases[0]!.view();
        const whole = v.begin <= extent.begin && v.end >= extent.end;
        patchParams({ zoom: whole ? null : formatZoom({ begin: originNs + BigInt(Math.round(v.begin)), end: originNs + BigInt(Math.round(v.end)) }) });
        lanes.forEach((l) => void l.loader.fetch(v));
      }, 200);
      const publish = () => {
        if (lanes.some((l) => l.loads === 0)) return;
        debugState().threads = {
          names: lanes.map((l) => l.thread.name), counts: lanes.map((l) => l.spans.count), firstBegins: lanes.map((l) => l.spans.begin[0] ?? NaN),
          views: () => canvases.map((c) => c.view()),
        };
        const total = lanes.reduce((n, l) => n + l.total, 0);
        info.textContent = `${total.toLocaleString()} spans in this window on ${lanes.length} thread${lanes.length === 1 ? '' : 's'}`;
      };
      const lanes = present.map(({ thread }, k) => {
        const note = h('span', { class: 'muted' });
        const lane = {
          thread, note, spans: emptySpans(), total: 0, loads: 0,
          canvas: null as unknown as FlameCanvas, loader: null as unknown as ReturnType<typeof windowLoader>,
        };
        lane.canvas = flameCanvas({
          spans: lane.spans, label: `Timeline of ${thread.name}`, testId: 'thread-canvas', axis: k === 0, extent, view,
          describe: (i) => lane.spans.n[i]! > 1
            ? `${lane.spans.n[i]!.toLocaleString()} spans · longest ${formatDuration(lane.spans.longest[i]!)} · depth ${lane.spans.depth[i]}`
            : `${formatDuration(lane.spans.end[i]! - lane.spans.begin[i]!)} · depth ${lane.spans.depth[i]}`,
          onViewChange: (v) => {
            follow(k, v);
            fetchAll();
          },
        });
        lane.loader = windowLoader({
          ctx, streamId: thread.streamId, originNs, extent,
          widthPx: () => lane.canvas.el.clientWidth || 1200,
          onError: (err) => (note.textContent = `could not load spans: ${describeError(err)}`),
          onLoad: (r) => {
            lane.spans = r.spans;
            lane.total = r.total;
            lane.loads++;
            lane.canvas.setSpans(r.spans);
            note.textContent = r.detail ? `${r.total.toLocaleString()} spans` : `${r.total.toLocaleString()} spans, as per-pixel aggregates`;
            publish();
          },
        });
        return lane;
      });
      canvases = lanes.map((l) => l.canvas);
      setChildren(body, ...lanes.flatMap((l) => [h('h3', { class: 'sub' }, l.thread.name, ' ', l.note), l.canvas.el]));
      lanes.forEach((l) => void l.loader.fetch(view));
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
