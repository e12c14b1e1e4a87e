/**
 * One chart per metric of a process, on a shared time axis with a synced cursor. Values are bucketed in
 * SQL to about one bucket per 3 px: zoomed out, each chart shows the avg line in a min–max band plus the
 * p99; zoomed in far enough that buckets hold single points, just the values. Dragging on a chart zooms
 * the page's time range (and so every view; Back undoes it).
 */
import { h, setChildren, statusBox } from '../../lib/dom.js';
import { query, describeError, isAbort } from '../../app/api.js';
import { liveLoop, resolved, type PageContext } from '../../app/page.js';
import { setParams } from '../../app/router.js';
import { col, timeColumnMs, numberColumn, stringColumn } from '../../lib/arrow-columns.js';
import { alignBuckets, chooseBucket, type BucketedSeries } from '../../lib/bucketing.js';
import { absoluteRange, formatDuration } from '../../lib/time-range.js';
import { lit } from '../../lib/sql.js';
import { timeChart, type TimeChart } from '../../components/time-chart.js';

export function metricsSql(processId: string, bucketSql: string): string {
  return `SELECT name, any_value(unit) AS unit, date_bin(${bucketSql}, time) AS t,
  min(value) AS vmin, avg(value) AS vavg, max(value) AS vmax, quantile_cont(value, 0.99) AS vp99, count(*) AS n
FROM measures WHERE process_id = ${lit(processId)}
GROUP BY name, t ORDER BY name, t`;
}

export function metricsPanel(ctx: PageContext, processId: string): HTMLElement {
  const filterIn = h('input', { type: 'search', placeholder: 'Filter metrics…', 'aria-label': 'Filter metrics', value: ctx.route.params.get('metric') ?? '' });
  const info = h('span', { class: 'muted', 'aria-live': 'polite' });
  const grid = h('div', { class: 'chart-grid', 'data-testid': 'metric-charts' });
  const el = h('section', { class: 'panel', 'aria-label': 'Metrics' },
    h('div', { class: 'toolbar' }, filterIn, h('span', { class: 'spacer' }), info), grid);
  let charts: TimeChart[] = [];
  let lastShape = '';
  ctx.signal.addEventListener('abort', () => charts.forEach((c) => c.destroy()));
  setChildren(grid, statusBox('loading', 'Loading metrics…'));

  const applyFilter = () => {
    const q = filterIn.value.trim().toLowerCase();
    for (const c of grid.querySelectorAll<HTMLElement>('.chart')) c.hidden = !!q && !(c.dataset.name ?? '').toLowerCase().includes(q);
  };
  filterIn.addEventListener('input', applyFilter);

  liveLoop(ctx, async (first) => {
    const range = resolved(ctx);
    const width = Math.max(300, (grid.clientWidth || 1000) / (grid.clientWidth > 1100 ? 2 : 1) - 80);
    const bucket = chooseBucket(range.end - range.begin, width, 3);
    try {
      const t = await query(metricsSql(processId, bucket.sql), range, ctx.signal);
      const names = stringColumn(col(t, 'name'));
      const units = stringColumn(col(t, 'unit'));
      const ts = timeColumnMs(col(t, 't'));
      const cols = { min: numberColumn(col(t, 'vmin')), avg: numberColumn(col(t, 'vavg')), max: numberColumn(col(t, 'vmax')), p99: numberColumn(col(t, 'vp99')) };
      const n = numberColumn(col(t, 'n'));
      const series: (BucketedSeries & { unit: string; single: boolean })[] = [];
      for (let i = 0; i < names.length;) {
        let j = i;
        let single = true;
        while (j < names.length && names[j] === names[i]) if (n[j++]! > 1) single = false;
        series.push({
          name: names[i]!, unit: units[i]!, single,
          t: ts.subarray(i, j),
          values: { min: cols.min.subarray(i, j), avg: cols.avg.subarray(i, j), max: cols.max.subarray(i, j), p99: cols.p99.subarray(i, j) },
        });
        i = j;
      }
      info.textContent = `${series.length} metric${series.length === 1 ? '' : 's'} · ${formatDuration(bucket.ms * 1e6)} buckets`;
      if (series.length === 0) {
        lastShape = '';
        charts.forEach((c) => c.destroy());
        charts = [];
        setChildren(grid, statusBox('empty', 'This process recorded no metrics in this time range.'));
        return;
      }
      const aligned = alignBuckets(series, range.begin, range.end, bucket.ms);
      const shape = series.map((m) => `${m.name}/${m.single}`).join('|') + `@${bucket.ms}`;
      const xRange: [number, number] = [range.begin / 1000, range.end / 1000];
      if (shape === lastShape && charts.length === aligned.series.length) {
        // a live refresh of the same metrics: new data in the same charts
        aligned.series.forEach((s, k) => {
          const v = s.values;
          charts[k]!.setData(aligned.x, series[k]!.single ? [v.avg!] : [v.avg!, v.min!, v.max!, v.p99!], xRange);
        });
        return;
      }
      lastShape = shape;
      charts.forEach((c) => c.destroy());
      charts = aligned.series.map((s, k) => {
        const meta = series[k]!;
        const c = timeChart({
          title: s.name, unit: meta.unit, x: aligned.x, syncKey: `metrics-${processId}`,
          xRange,
          testId: 'metric-chart',
          series: meta.single
            ? [{ label: 'value', values: s.values.avg! }]
            : [
                { label: 'avg', values: s.values.avg! },
                { label: 'min', values: s.values.min!, color: 7, width: 0.5 },
                { label: 'max', values: s.values.max!, color: 7, width: 0.5 },
                { label: 'p99', values: s.values.p99!, color: 1, dash: true, width: 1 },
              ],
          band: meta.single ? undefined : [2, 1],
          onZoom: (b, e) => {
            const r = absoluteRange(Math.round(b), Math.round(e));
            setParams({ from: r.from, to: r.to });
          },
        });
        c.el.dataset.name = s.name;
        return c;
      });
      setChildren(grid, charts.map((c) => c.el));
      applyFilter();
    } catch (err) {
      if (isAbort(err)) return;
      if (first) setChildren(grid, statusBox('error', `Could not load metrics: ${describeError(err)}`));
    }
  });
  return el;
}
