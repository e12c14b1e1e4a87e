/**
 * A process's frames at a glance: how often and how badly a frame goes wrong. The frame-time chart shows
 * p50, p95 and max of `frame_time` per bucket (bucketed in SQL, ~1 bucket per 4 px) with the buckets that
 * hold a slow frame marked; the budget (`?budget=` ms, default 1.5 frames at 60 fps) is a control. Below, the
 * slowest frames over budget, each linked to its kept `frame` span: one click opens the timeline and flame
 * graph zoomed on that frame.
 */
import { h, setChildren, statusBox } from '../../lib/dom.js';
import { query, describeError, isAbort } from '../../app/api.js';
import { resolved, type PageContext } from '../../app/page.js';
import { linkTo, setParams } from '../../app/router.js';
import { col, numberColumn, stringColumn, timeColumnMs } from '../../lib/arrow-columns.js';
import { alignBuckets, chooseBucket } from '../../lib/bucketing.js';
import { absoluteRange, formatDuration, formatTime } from '../../lib/time-range.js';
import { dataTable } from '../../components/data-table.js';
import { timeChart, type TimeChart } from '../../components/time-chart.js';
import { debugState } from '../../app/debug.js';
import {
  frameStatsSql, slowFramesSql, slowFrameSpansSql, parseBudget, frameWindow, formatZoom, DEFAULT_BUDGET_MS,
} from '../../lib/frames-query.js';
import type { ThreadStream } from './timeline-panel.js';

export interface SlowFrame {
  key: string;
  /** epoch ms of the measure (or of the span's begin when there is no measure) */
  time: number;
  ms: number;
  /** the kept frame span, when one was found */
  streamId: string;
  beginNs: string;
  endNs: string;
}

export function framesPanel(ctx: PageContext, processId: string, threads: ThreadStream[]): HTMLElement {
  const budget = parseBudget(ctx.route.params.get('budget'));
  const budgetIn = h('input', {
    type: 'number', min: '0.1', step: '0.1', value: String(budget), class: 'narrow', 'aria-label': 'Frame budget (ms)', 'data-testid': 'frame-budget',
  });
  const info = h('span', { class: 'muted', 'aria-live': 'polite', 'data-testid': 'frames-info' });
  const chartSlot = h('div', { 'data-testid': 'frame-chart-slot' });
  const tableSlot = h('div');
  const el = h('section', { class: 'panel', 'aria-label': 'Frames' },
    h('div', { class: 'toolbar' },
      h('label', { class: 'inline', title: `A frame slower than this is slow (default ${DEFAULT_BUDGET_MS} ms: 1.5 frames at 60 fps)` }, 'Budget ', budgetIn, ' ms'),
      h('span', { class: 'spacer' }), info),
    chartSlot, h('h3', { class: 'sub' }, 'Slowest frames'), tableSlot);
  let chart: TimeChart | null = null;
  ctx.signal.addEventListener('abort', () => chart?.destroy());
  budgetIn.addEventListener('change', () => {
    const v = Number(budgetIn.value);
    if (Number.isFinite(v) && v > 0) setParams({ budget: v === DEFAULT_BUDGET_MS ? null : String(v) });
  });

  const threadName = new Map(threads.map((t) => [t.streamId, t.name]));
  const table = dataTable<SlowFrame>({
    testId: 'slow-frames',
    caption: 'Slowest frames',
    rowKey: (r) => r.key,
    sort: { key: 'ms', desc: true },
    columns: [
      { key: 'time', label: 'Time', cell: (r) => formatTime(r.time, true), sort: (r) => r.time },
      { key: 'ms', label: 'Duration', align: 'right', cell: (r) => h('span', { class: 'badge badge-warn' }, formatDuration(r.ms * 1e6)), sort: (r) => r.ms },
      { key: 'over', label: 'Over budget', align: 'right', secondary: true, cell: (r) => `${(r.ms / budget).toFixed(1)}×`, sort: (r) => r.ms },
      { key: 'thread', label: 'Thread', secondary: true, cell: (r) => (r.streamId ? threadName.get(r.streamId) ?? r.streamId : '') },
      { key: 'trace', label: 'Trace', cell: (r) => r.beginNs
        ? h('a', { href: timelineHref(r), 'data-testid': 'frame-link', title: 'Open the timeline and flame graph on this frame' }, 'Timeline')
        : h('span', { class: 'muted', title: 'No frame span was kept for this frame (tail sampling keeps slow frames; this one may be outside the range)' }, 'no trace') },
    ],
  });

  const timelineHref = (r: SlowFrame) => linkTo(`/process/${encodeURIComponent(processId)}`, {
    tab: 'timeline', thread: r.streamId, zoom: formatZoom(frameWindow(BigInt(r.beginNs), BigInt(r.endNs))),
  });

  const load = async () => {
    const range = resolved(ctx);
    setChildren(chartSlot, statusBox('loading', 'Loading frame times…'));
    const width = Math.max(300, (el.clientWidth || 1000) - 80);
    const bucket = chooseBucket(range.end - range.begin, width, 4);
    const streamIds = threads.map((t) => t.streamId);
    try {
      const [stats, slow] = await Promise.all([
        query(frameStatsSql(processId, bucket.sql, budget), range, ctx.signal),
        query(slowFramesSql(processId, streamIds, budget), range, ctx.signal),
      ]);
      let slowT = slow;
      if (stats.numRows === 0 && streamIds.length > 0) {
        // no frame_time measure: frames may still be spans
        slowT = await query(slowFrameSpansSql(streamIds, budget), range, ctx.signal);
      }
      const t = timeColumnMs(col(stats, 't'));
      const [p50, p95, vmax, n, nSlow] = ['p50', 'p95', 'vmax', 'n', 'slow'].map((c) => numberColumn(col(stats, c))) as Float64Array[];
      const frames = n!.reduce((a, x) => a + x, 0);
      const slowCount = nSlow!.reduce((a, x) => a + x, 0);
      let worst = 0;
      for (const v of vmax!) worst = Math.max(worst, v);
      const rows = readSlow(slowT);
      debugState().frames = {
        frames, slow: slowCount, budget, buckets: t.length,
        rows: rows.map((r) => ({ ms: r.ms, streamId: r.streamId, beginNs: r.beginNs, endNs: r.endNs, time: r.time })),
      };
      info.textContent = frames > 0
        ? `${frames.toLocaleString()} frames · ${slowCount.toLocaleString()} over ${budget} ms (${((100 * slowCount) / frames).toFixed(2)} %) · worst ${formatDuration(worst * 1e6)}`
        : rows.length > 0 ? `${rows.length} slow frame spans (no frame_time measure)` : '';
      chart?.destroy();
      chart = null;
      if (stats.numRows === 0) {
        setChildren(chartSlot, statusBox('empty', 'This process recorded no frame_time measure in this time range (frames come from beginFrame/endFrame, frame(fn) or trackAnimationFrames()).'));
      } else {
        const slowMark = Array.from(vmax!, (v, i) => (nSlow![i]! > 0 ? v : null));
        const aligned = alignBuckets([{ name: 'frame_time', t, values: { p50: p50!, p95: p95!, max: vmax!, slow: slowMark } }], range.begin, range.end, bucket.ms);
        const v = aligned.series[0]!.values;
        const budgetLine = new Array<number>(aligned.x.length).fill(budget);
        chart = timeChart({
          title: 'Frame time', unit: 'ms', x: aligned.x, height: 240, testId: 'frame-chart',
          xRange: [range.begin / 1000, range.end / 1000],
          series: [
            { label: 'p50', values: v.p50! },
            { label: 'p95', values: v.p95!, color: 2 },
            { label: 'max', values: v.max!, color: 7, width: 1 },
            { label: `budget ${budget} ms`, values: budgetLine, color: 1, dash: true, width: 1 },
            { label: 'slow frames', values: v.slow!, color: 1, pointsOnly: true },
          ],
          onZoom: (b, e) => {
            const r = absoluteRange(Math.round(b), Math.round(e));
            setParams({ from: r.from, to: r.to });
          },
        });
        setChildren(chartSlot, chart.el);
      }
      if (rows.length === 0) {
        setChildren(tableSlot, statusBox('empty', `No frame over ${budget} ms in this time range.`));
      } else {
        table.setRows(rows);
        setChildren(tableSlot, table.el);
      }
    } catch (err) {
      if (isAbort(err)) return;
      setChildren(chartSlot, statusBox('error', `Could not load frames: ${describeError(err)}`));
      setChildren(tableSlot);
    }
  };
  void load();
  return el;
}

function readSlow(t: import('apache-arrow').Table): SlowFrame[] {
  const time = timeColumnMs(col(t, 'time'));
  const ms = numberColumn(col(t, 'ms'));
  const sid = stringColumn(col(t, 'stream_id'));
  const b = stringColumn(col(t, 'begin_ns'));
  const e = stringColumn(col(t, 'end_ns'));
  return Array.from(time, (tm, i) => ({ key: `${i}`, time: tm, ms: ms[i]!, streamId: sid[i]!, beginNs: b[i]!, endNs: e[i]! }));
}
