/**
 * A time-series chart (uPlot) that fits its container, follows the theme, shares its cursor with the other
 * charts on the page, and reports a dragged selection so the page can zoom the shared time range.
 *
 * ```ts
 * const c = timeChart({ title: 'fps', x, series: [{ label: 'avg', values }], onZoom: (b, e) => … });
 * ```
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h } from '../lib/dom.js';
import { cssVar, onThemeChange } from '../app/theme.js';

export interface ChartSeries {
  label: string;
  values: (number | null)[] | Float64Array;
  /** palette index (0 = accent) */
  color?: number;
  dash?: boolean;
  width?: number;
  /** draw as bars (counts per bucket) */
  bars?: boolean;
  /** marks at the values, no line (events on a curve: slow frames) */
  pointsOnly?: boolean;
}

export interface TimeChart {
  el: HTMLElement;
  /** new data for the same series (a live refresh): redrawn in place, no flash */
  setData(x: ArrayLike<number>, values: ChartSeries['values'][], xRange?: [number, number]): void;
  destroy(): void;
}

export const PALETTE = ['#4f7cff', '#e5484d', '#f5a524', '#30a46c', '#8e4ec6', '#12a594', '#d6409f', '#6e7b8b'];

export function timeChart(opts: {
  title?: string;
  unit?: string;
  /** seconds since the epoch, ascending */
  x: ArrayLike<number>;
  series: ChartSeries[];
  /** fill between two series (by index into `series`), e.g. max and min */
  band?: [number, number];
  /** x-axis range in seconds (the query range), so neighbouring charts line up */
  xRange?: [number, number];
  height?: number;
  syncKey?: string;
  onZoom?(beginMs: number, endMs: number): void;
  testId?: string;
}): TimeChart {
  const holder = h('div', { class: 'chart-plot' });
  const el = h('figure', { class: 'chart', 'data-testid': opts.testId },
    opts.title ? h('figcaption', {}, opts.title, opts.unit ? h('span', { class: 'muted' }, ` (${opts.unit})`) : null) : null,
    holder);
  let plot: uPlot | null = null;

  const build = () => {
    plot?.destroy();
    const axisColor = cssVar('--muted') || '#888';
    const gridColor = cssVar('--grid') || 'rgba(128,128,128,0.15)';
    const bars = uPlot.paths.bars?.({ size: [0.8, 40] });
    const series: uPlot.Series[] = [{}];
    opts.series.forEach((s) => {
      const color = PALETTE[(s.color ?? 0) % PALETTE.length]!;
      // a line through one or a few points is invisible: mark the points themselves
      let present = 0;
      for (let i = 0; i < s.values.length; i++) {
        const v = s.values[i];
        if (v !== null && v !== undefined && !Number.isNaN(v)) present++;
      }
      series.push({
        label: s.label,
        stroke: color,
        width: s.width ?? (s.bars ? 0 : 1.5),
        dash: s.dash ? [4, 3] : undefined,
        fill: s.bars ? color + 'cc' : undefined,
        paths: s.bars ? bars : s.pointsOnly ? () => null : undefined,
        points: s.pointsOnly ? { show: true, size: 8, fill: color, stroke: color } : { show: !s.bars && present > 0 && present < 40, size: 5, fill: color },
        spanGaps: false,
        value: (_u, v) => (v === null || v === undefined ? '—' : formatNumber(v)),
      });
    });
    const data = [Float64Array.from(opts.x), ...opts.series.map((s) => Array.from(s.values as ArrayLike<number | null>))] as uPlot.AlignedData;
    const width = Math.max(200, holder.clientWidth || el.clientWidth || 600);
    plot = new uPlot({
      width,
      height: opts.height ?? 180,
      series,
      bands: opts.band ? [{ series: [opts.band[0] + 1, opts.band[1] + 1], fill: PALETTE[opts.series[opts.band[0]]?.color ?? 0] + '22' }] : undefined,
      scales: {
        x: { time: true, ...(opts.xRange ? { range: () => opts.xRange! } : {}) },
        y: { range: (_u, min, max) => (min === max ? [min - 1, max + 1] : [Math.min(0, min), max * 1.05 || 1]) as [number, number] },
      },
      axes: [
        { stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor } },
        { stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor }, size: 56, values: (_u, vals) => vals.map(formatNumber) },
      ],
      cursor: {
        sync: opts.syncKey ? { key: opts.syncKey } : undefined,
        drag: { x: true, y: false, setScale: false },
      },
      legend: { live: true },
      hooks: {
        setSelect: [
          (u) => {
            if (!opts.onZoom || u.select.width < 4) return;
            const b = u.posToVal(u.select.left, 'x');
            const e = u.posToVal(u.select.left + u.select.width, 'x');
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            opts.onZoom(b * 1000, e * 1000);
          },
        ],
      },
    }, data, holder);
  };

  const ro = new ResizeObserver(() => {
    const w = holder.clientWidth;
    if (!plot) {
      if (w > 0) build();
    } else if (w > 0 && Math.abs(w - plot.width) > 1) plot.setSize({ width: w, height: plot.height });
  });
  ro.observe(holder);
  const offTheme = onThemeChange(() => plot && build());
  queueMicrotask(() => {
    if (!plot && holder.isConnected) build();
  });
  return {
    el,
    setData(x, values, xRange) {
      opts.x = x;
      values.forEach((v, i) => {
        if (opts.series[i]) opts.series[i]!.values = v;
      });
      if (xRange) opts.xRange = xRange;
      if (!plot) return;
      plot.setData([Float64Array.from(x), ...opts.series.map((s) => Array.from(s.values as ArrayLike<number | null>))] as uPlot.AlignedData);
    },
    destroy() {
      ro.disconnect();
      offTheme();
      plot?.destroy();
    },
  };
}

export function formatNumber(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e9) return `${+(v / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`;
  if (a >= 1) return String(+v.toPrecision(4));
  return String(+v.toPrecision(3));
}
