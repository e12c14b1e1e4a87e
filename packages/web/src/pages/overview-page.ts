/**
 * The system at a glance, from the `log_stats` view (per-minute counts by process, level and target):
 * log volume and error rate over time, the noisiest targets, the processes with the most errors.
 */
import { h, setChildren, statusBox } from '../lib/dom.js';
import { query, describeError, isAbort } from '../app/api.js';
import { liveLoop, resolved, type PageContext } from '../app/page.js';
import { setParams, linkTo } from '../app/router.js';
import { col, numberColumn, stringColumn, timeColumnMs } from '../lib/arrow-columns.js';
import { alignBuckets, chooseBucket } from '../lib/bucketing.js';
import { absoluteRange, formatDuration } from '../lib/time-range.js';
import { timeChart, formatNumber, type TimeChart } from '../components/time-chart.js';
import { barList } from '../components/bar-list.js';
import { shortExe } from './processes-page.js';
import { logCountRowsSql, logTotalsSql, type LogFilter, type MsRange } from '../lib/log-query.js';

export const volumeSql = (bucketSql: string) => `SELECT date_bin(${bucketSql}, time_bin) AS t, sum(count) AS total,
  coalesce(sum(count) FILTER (WHERE level <= 2), 0) AS errors, coalesce(sum(count) FILTER (WHERE level = 3), 0) AS warnings
FROM log_stats GROUP BY t ORDER BY t`;

// counts as every page counts them (`logCountRowsSql`): the chart's minute bins aside, one range gives one count
const ALL_LEVELS: LogFilter = { maxLevel: 6, search: '', target: '' };

export const targetsSql = (range: MsRange) => `SELECT target, sum(n)::BIGINT AS n, coalesce(sum(n) FILTER (WHERE level <= 2), 0)::BIGINT AS errors
FROM (${logCountRowsSql(range, ALL_LEVELS, ['target', 'level'])}) counted GROUP BY target ORDER BY n DESC, target LIMIT 10`;

export const errorProcessesSql = (range: MsRange) => `SELECT s.process_id, any_value(p.exe) AS exe, any_value(p.computer) AS computer, sum(s.n)::BIGINT AS errors
FROM (${logCountRowsSql(range, { ...ALL_LEVELS, maxLevel: 2 }, ['process_id'])}) s LEFT JOIN processes p ON p.process_id = s.process_id
GROUP BY s.process_id ORDER BY errors DESC, s.process_id LIMIT 10`;

export async function overviewPage(root: HTMLElement, ctx: PageContext): Promise<void> {
  const kpis = h('div', { class: 'kpis', 'data-testid': 'kpis' });
  const charts = h('div', { class: 'chart-grid' });
  const targets = h('div', {});
  const procs = h('div', {});
  setChildren(root,
    h('div', { class: 'page-head' }, h('h1', {}, 'Overview')),
    kpis,
    h('section', { class: 'panel' }, h('h2', {}, 'Log volume and error rate'), charts),
    h('div', { class: 'two-col' },
      h('section', { class: 'panel' }, h('h2', {}, 'Noisiest targets'), targets),
      h('section', { class: 'panel' }, h('h2', {}, 'Processes with the most errors'), procs)));
  setChildren(kpis, statusBox('loading', 'Loading log statistics…'));
  let made: TimeChart[] = [];
  let madeBucket = 0;
  ctx.signal.addEventListener('abort', () => made.forEach((c) => c.destroy()));

  liveLoop(ctx, async (first) => {
    const range = resolved(ctx);
    const bucket = chooseBucket(range.end - range.begin, Math.max(300, (root.clientWidth || 1000) / 2 - 80), 4, 60_000);
    try {
      const [vol, tot, tgt, prc] = await Promise.all([
        query(volumeSql(bucket.sql), range, ctx.signal),
        query(logTotalsSql(range), range, ctx.signal),
        query(targetsSql(range), range, ctx.signal),
        query(errorProcessesSql(range), range, ctx.signal),
      ]);
      const t = timeColumnMs(col(vol, 't'));
      const total = numberColumn(col(vol, 'total'));
      const errors = numberColumn(col(vol, 'errors'));
      const warnings = numberColumn(col(vol, 'warnings'));
      const nTotal = numberColumn(col(tot, 'total'))[0] ?? 0;
      const nErr = numberColumn(col(tot, 'errors'))[0] ?? 0;
      setChildren(kpis,
        kpi('Log lines', formatNumber(nTotal)), kpi('Errors', formatNumber(nErr), nErr > 0 ? 'bad' : ''),
        kpi('Warnings', formatNumber(numberColumn(col(tot, 'warnings'))[0] ?? 0)), kpi('Error rate', nTotal ? `${((nErr / nTotal) * 100).toFixed(2)} %` : '—'),
        kpi('Bucket', formatDuration(bucket.ms * 1e6)));
      const rate = Float64Array.from(total, (n, i) => (n > 0 ? (errors[i]! / n) * 100 : 0));
      const a = alignBuckets([{ name: 'logs', t, values: { total, errors, warnings, rate } }], range.begin, range.end, bucket.ms);
      const v = a.series[0]!.values;
      const rateValues = v.rate!.map((x, i) => (v.total![i] ? x : null));
      if (nTotal > 0 && made.length === 2 && madeBucket === bucket.ms) {
        // live refresh: same charts, new data
        made[0]!.setData(a.x, [v.total!, v.errors!, v.warnings!], [range.begin / 1000, range.end / 1000]);
        made[1]!.setData(a.x, [rateValues], [range.begin / 1000, range.end / 1000]);
      } else {
        made.forEach((c) => c.destroy());
        made = [];
        madeBucket = bucket.ms;
      }
      if (nTotal === 0) setChildren(charts, statusBox('empty', 'No log lines in this time range.'));
      else if (made.length === 0) {
        const zoom = (b: number, e: number) => {
          const r = absoluteRange(Math.round(b), Math.round(e));
          setParams({ from: r.from, to: r.to });
        };
        const xRange: [number, number] = [range.begin / 1000, range.end / 1000];
        made = [
          timeChart({ title: 'Log lines per bucket', x: a.x, xRange, syncKey: 'overview', onZoom: zoom, testId: 'volume-chart',
            series: [{ label: 'all', values: v.total!, bars: true }, { label: 'errors', values: v.errors!, color: 1, width: 1.5 }, { label: 'warnings', values: v.warnings!, color: 2, width: 1 }] }),
          timeChart({ title: 'Error rate', unit: '%', x: a.x, xRange, syncKey: 'overview', onZoom: zoom, testId: 'error-rate-chart',
            series: [{ label: 'errors %', values: rateValues, color: 1 }] }),
        ];
        setChildren(charts, made.map((c) => c.el));
      }
      const tn = stringColumn(col(tgt, 'target'));
      const tc = numberColumn(col(tgt, 'n'));
      const te = numberColumn(col(tgt, 'errors'));
      setChildren(targets, tn.length === 0 ? statusBox('empty', 'No targets logged in this range.')
        : barList(tn.map((name, i) => ({ label: name || '(none)', value: tc[i]!, part: te[i]!, title: `${name}: ${tc[i]!.toLocaleString()} lines, ${te[i]!.toLocaleString()} errors` })), { testId: 'top-targets', valueLabel: 'lines' }));
      const pid = stringColumn(col(prc, 'process_id'));
      const pexe = stringColumn(col(prc, 'exe'));
      const pcomp = stringColumn(col(prc, 'computer'));
      const perr = numberColumn(col(prc, 'errors'));
      setChildren(procs, pid.length === 0 ? statusBox('empty', 'No errors in this time range.')
        : barList(pid.map((id, i) => ({
            label: `${shortExe(pexe[i] || id)}${pcomp[i] ? ' @ ' + pcomp[i] : ''}`, value: perr[i]!, part: perr[i]!,
            href: linkTo(`/process/${encodeURIComponent(id)}`, { tab: 'logs', level: '2' }),
          })), { testId: 'top-error-processes', valueLabel: 'errors' }));
    } catch (err) {
      if (isAbort(err)) return;
      if (first) setChildren(kpis, statusBox('error', `Could not load log statistics: ${describeError(err)}`));
    }
  });
}

function kpi(label: string, value: string, tone = ''): HTMLElement {
  return h('div', { class: `kpi ${tone}` }, h('div', { class: 'kpi-v' }, value), h('div', { class: 'kpi-k' }, label));
}
