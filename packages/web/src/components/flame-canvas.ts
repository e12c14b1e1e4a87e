/**
 * A canvas that draws laid-out spans (a thread timeline or a flame graph): x is time (or total time),
 * y is depth. Layout happens once (`layoutLanes`); each frame draws only the visible rects, with
 * sub-pixel runs merged, so 100 000+ spans pan at display rate. Drag or arrow keys pan, wheel or +/- zoom
 * around the pointer, double-click a span to zoom to it, 0 resets.
 */
import { h } from '../lib/dom.js';
import { layoutLanes, visibleRects, spanAt, RectBuffer, type SpanColumns, type LaneLayout } from '../lib/flame-layout.js';
import { cssVar, onThemeChange } from '../app/theme.js';
import { formatDuration } from '../lib/time-range.js';
import { niceTicks, formatTick } from '../lib/ticks.js';

const ROW = 18;
const AXIS = 18;

export interface FlameCanvas {
  el: HTMLElement;
  canvas: HTMLCanvasElement;
  /** the visible x range, in the spans' units */
  view(): { begin: number; end: number };
  setView(begin: number, end: number): void;
  /** draws now; returns ms spent */
  draw(): number;
  /** new spans in the same place (a new window of the same timeline): the view and extent stay */
  setSpans(spans: SpanColumns): void;
  destroy(): void;
}

export function flameCanvas(opts: {
  spans: SpanColumns;
  label: string;
  /** text for the tooltip's second line */
  describe(i: number): string;
  /** initial view; default: the spans' extent */
  view?: { begin: number; end: number };
  /** the x range views are kept within (and `0` resets to); default: the spans' extent. Canvases that pan
   * together (one per thread) share one, so the same view means the same thing on each */
  extent?: { begin: number; end: number };
  onViewChange?(v: { begin: number; end: number }): void;
  testId?: string;
  onFrame?(ms: number): void;
  /** draw a time axis on top (labels relative to the start of the data) */
  axis?: boolean;
}): FlameCanvas {
  let s = opts.spans;
  let layout: LaneLayout = layoutLanes(s);
  const rects = new RectBuffer();
  const canvas = h('canvas', { class: 'flame-canvas', tabindex: '0', role: 'img', 'aria-label': opts.label, 'data-testid': opts.testId, 'data-span-count': String(s.count) });
  const tip = h('div', { class: 'flame-tip', role: 'tooltip', hidden: true });
  const el = h('div', { class: 'flame-wrap' }, canvas, tip);
  const full = opts.extent ?? { begin: layout.begin, end: layout.end > layout.begin ? layout.end : layout.begin + 1 };
  let view = { ...(opts.view ?? full) };
  let colors: string[] = [];
  let merged = '#999';
  let text = '#000';
  let axisColor = '#888';
  let width = 0;
  const top = opts.axis ? AXIS : 0;
  const heightOf = () => Math.max(1, layout.lanes.length) * ROW + 4 + top;
  let height = heightOf();

  const palette = () => {
    const dark = document.documentElement.dataset.theme === 'dark';
    colors = s.names.map((n) => {
      let hsh = 0;
      for (let i = 0; i < n.length; i++) hsh = (hsh * 31 + n.charCodeAt(i)) | 0;
      const hue = ((hsh >>> 0) % 360 + 360) % 360;
      return dark ? `hsl(${hue} 45% 42%)` : `hsl(${hue} 65% 72%)`;
    });
    merged = cssVar('--flame-merged') || '#8884';
    text = cssVar('--flame-text') || '#000';
    axisColor = cssVar('--muted') || '#888';
  };
  palette();

  const resize = () => {
    const w = el.clientWidth || 800;
    const dpr = window.devicePixelRatio || 1;
    width = w;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(height * dpr);
    canvas.style.width = `${w}px`;
    canvas.style.height = `${height}px`;
  };

  const draw = () => {
    const t0 = performance.now();
    const ctx = canvas.getContext('2d');
    if (!ctx || width === 0) return 0;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const n = visibleRects(layout, s, view, width, rects);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    // one fillStyle change per colour run is the expensive part; merged rects share one style
    let style = '';
    for (let k = 0; k < n; k++) {
      const i = rects.span[k]!;
      const c = i >= 0 ? colors[s.name[i]!]! : i === -1 ? merged : colors[-i - 2]!;
      if (c !== style) ctx.fillStyle = style = c;
      const x = rects.x[k]!;
      const w = rects.w[k]!;
      ctx.fillRect(x, top + rects.depth[k]! * ROW + 1, w > 2 ? w - 0.5 : w, ROW - 1);
    }
    ctx.fillStyle = text;
    for (let k = 0; k < n; k++) {
      const w = rects.w[k]!;
      const i = rects.span[k]!;
      if (w < 28 || i < 0) continue;
      const name = s.names[s.name[i]!]!;
      const fit = Math.floor((w - 6) / 6.2);
      if (fit < 2) continue;
      ctx.fillText(name.length > fit ? name.slice(0, fit - 1) + '…' : name, rects.x[k]! + 3, top + rects.depth[k]! * ROW + ROW / 2 + 0.5);
    }
    if (opts.axis) {
      const { ticks, step } = niceTicks(view.begin - full.begin, view.end - full.begin, Math.max(2, Math.floor(width / 110)));
      ctx.fillStyle = axisColor;
      ctx.fillRect(0, AXIS - 1, width, 1);
      for (const t of ticks) {
        const x = ((t + full.begin - view.begin) / (view.end - view.begin)) * width;
        ctx.fillRect(x, AXIS - 5, 1, 5);
        ctx.fillText(`+${formatTick(t, step)}`, x + 3, AXIS / 2 - 1);
      }
    }
    const ms = performance.now() - t0;
    opts.onFrame?.(ms);
    return ms;
  };

  let raf = 0;
  const schedule = () => {
    if (!raf) raf = requestAnimationFrame(() => {
      raf = 0;
      draw();
    });
  };
  const setView = (b: number, e: number) => {
    const span = full.end - full.begin;
    const minW = 1000; // 1 µs
    let w = Math.max(minW, Math.min(e - b, span * 1.2));
    let nb = b;
    if (e - b !== w) nb = b + (e - b - w) / 2;
    nb = Math.max(full.begin - span * 0.1, Math.min(nb, full.end + span * 0.1 - w));
    if (!Number.isFinite(nb) || !Number.isFinite(w)) return;
    w = Math.max(w, 1e-9);
    view = { begin: nb, end: nb + w };
    opts.onViewChange?.(view);
    schedule();
  };
  const zoom = (factor: number, atPx: number) => {
    const t = view.begin + (atPx / width) * (view.end - view.begin);
    setView(t - (t - view.begin) * factor, t + (view.end - t) * factor);
  };

  // pointer: drag pans, wheel zooms, hover shows the span
  let drag: { x: number; view: { begin: number; end: number } } | null = null;
  canvas.addEventListener('pointerdown', (e) => {
    drag = { x: e.clientX, view: { ...view } };
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener('pointerup', () => (drag = null));
  canvas.addEventListener('pointermove', (e) => {
    const r = canvas.getBoundingClientRect();
    const px = e.clientX - r.left;
    if (drag) {
      const dt = ((e.clientX - drag.x) / width) * (drag.view.end - drag.view.begin);
      setView(drag.view.begin - dt, drag.view.end - dt);
      tip.hidden = true;
      return;
    }
    const depth = Math.floor((e.clientY - r.top - top) / ROW);
    const t = view.begin + (px / width) * (view.end - view.begin);
    const i = spanAt(layout, s, depth, t, (2 * (view.end - view.begin)) / width);
    if (i < 0) {
      tip.hidden = true;
      return;
    }
    tip.hidden = false;
    tip.replaceChildren(h('strong', {}, s.names[s.name[i]!]!), h('div', {}, opts.describe(i)));
    tip.style.left = `${Math.min(px + 12, width - 260)}px`;
    tip.style.top = `${top + (depth + 1) * ROW + 4}px`;
  });
  canvas.addEventListener('pointerleave', () => (tip.hidden = true));
  canvas.addEventListener('wheel', (e) => {
    e.preventDefault();
    const r = canvas.getBoundingClientRect();
    if (Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
      const dt = (e.deltaX / width) * (view.end - view.begin);
      setView(view.begin + dt, view.end + dt);
    } else zoom(Math.exp(e.deltaY * 0.002), e.clientX - r.left);
  }, { passive: false });
  canvas.addEventListener('dblclick', (e) => {
    const r = canvas.getBoundingClientRect();
    const depth = Math.floor((e.clientY - r.top - top) / ROW);
    const t = view.begin + ((e.clientX - r.left) / width) * (view.end - view.begin);
    const i = spanAt(layout, s, depth, t);
    if (i >= 0) {
      const pad = (s.end[i]! - s.begin[i]!) * 0.05;
      setView(s.begin[i]! - pad, s.end[i]! + pad);
    }
  });
  canvas.addEventListener('keydown', (e) => {
    const w = view.end - view.begin;
    if (e.key === 'ArrowLeft') setView(view.begin - w * 0.1, view.end - w * 0.1);
    else if (e.key === 'ArrowRight') setView(view.begin + w * 0.1, view.end + w * 0.1);
    else if (e.key === '+' || e.key === '=') zoom(0.8, width / 2);
    else if (e.key === '-') zoom(1.25, width / 2);
    else if (e.key === '0') setView(full.begin, full.end);
    else return;
    e.preventDefault();
  });

  const ro = new ResizeObserver(() => {
    resize();
    draw();
  });
  ro.observe(el);
  const offTheme = onThemeChange(() => {
    palette();
    schedule();
  });

  return {
    el,
    canvas,
    view: () => ({ ...view }),
    setView,
    draw() {
      if (width === 0) resize();
      return draw();
    },
    setSpans(spans) {
      s = spans;
      layout = layoutLanes(s);
      canvas.setAttribute('data-span-count', String(s.count));
      palette();
      const h2 = heightOf();
      if (h2 !== height) {
        height = h2;
        resize();
      }
      schedule();
    },
    destroy() {
      ro.disconnect();
      offTheme();
      cancelAnimationFrame(raf);
    },
  };
}

export function spanDescription(s: SpanColumns, i: number, extra = ''): string {
  return `${formatDuration(s.end[i]! - s.begin[i]!)}${extra}`;
}
