/**
 * A process's async spans (`spanAsync`, `beginAsyncSpan`: requests, loads, tasks that cross awaits), from
 * `view_instance('async_events', process)`: per name how often they ran and how long they took (median, p95,
 * longest, total, and how many never ended in the range), then the slowest ones one by one. The
 * "how often and how badly" of work the thread timeline cannot show.
 */
import { h, setChildren, statusBox } from '../../lib/dom.js';
import { query, describeError, isAbort } from '../../app/api.js';
import { resolved, type PageContext } from '../../app/page.js';
import { col, numberColumn, stringColumn, timeColumnMs } from '../../lib/arrow-columns.js';
import { dataTable } from '../../components/data-table.js';
import { formatDuration, formatTime } from '../../lib/time-range.js';
import { lit } from '../../lib/sql.js';

/** one row per span: its name and target, first begin and last end (NULL while it has not ended) */
function spansCte(processId: string): string {
  return `WITH spans AS (
  SELECT span_id, any_value(name) AS name, any_value(target) AS target, min(depth) AS depth,
    min(time) FILTER (WHERE event_type = 'begin') AS b, max(time) FILTER (WHERE event_type = 'end') AS e
  FROM view_instance('async_events', ${lit(processId)}) GROUP BY span_id)`;
}

export function asyncStatsSql(processId: string): string {
  const d = 'epoch_ns(e) - epoch_ns(b)';
  return `${spansCte(processId)}
SELECT name, target, count(*) AS calls, count(*) - count(e) AS open, quantile_cont(${d}, 0.5) AS p50,
  quantile_cont(${d}, 0.95) AS p95, max(${d}) AS longest, sum(${d}) AS total
FROM spans WHERE b IS NOT NULL GROUP BY name, target ORDER BY total DESC NULLS LAST, calls DESC LIMIT 1000`;
}

export function slowestAsyncSql(processId: string, limit = 100): string {
  return `${spansCte(processId)}
SELECT name, target, depth, b AS begin, epoch_ns(e) - epoch_ns(b) AS duration
FROM spans WHERE b IS NOT NULL AND e IS NOT NULL ORDER BY duration DESC LIMIT ${limit}`;
}

interface NameStats {
  name: string;
  target: string;
  calls: number;
  open: number;
  p50: number;
  p95: number;
  longest: number;
  total: number;
}

interface SlowSpan {
  key: string;
  name: string;
  target: string;
  depth: number;
  begin: number;
  duration: number;
}

const dur = (ns: number) => (Number.isFinite(ns) ? formatDuration(ns) : '—');

export function asyncPanel(ctx: PageContext, processId: string): HTMLElement {
  const info = h('span', { class: 'muted', 'aria-live': 'polite', 'data-testid': 'async-info' });
  const body = h('div');
  const el = h('section', { class: 'panel', 'aria-label': 'Async spans' }, h('div', { class: 'toolbar' }, h('span', { class: 'spacer' }), info), body);
  const byName = dataTable<NameStats>({
    testId: 'async-by-name',
    caption: 'Async spans by name',
    rowKey: (r) => `${r.name}\u0000${r.target}`,
    sort: { key: 'total', desc: true },
    columns: [
      { key: 'name', label: 'Name', cell: (r) => r.name, sort: (r) => r.name },
      { key: 'target', label: 'Target', cell: (r) => r.target, sort: (r) => r.target, secondary: true },
      { key: 'calls', label: 'Calls', cell: (r) => r.calls.toLocaleString(), sort: (r) => r.calls, align: 'right' },
      { key: 'open', label: 'Not ended', cell: (r) => (r.open ? r.open.toLocaleString() : ''), sort: (r) => r.open, align: 'right', secondary: true },
      { key: 'p50', label: 'Median', cell: (r) => dur(r.p50), sort: (r) => r.p50, align: 'right' },
      { key: 'p95', label: 'p95', cell: (r) => dur(r.p95), sort: (r) => r.p95, align: 'right' },
      { key: 'longest', label: 'Longest', cell: (r) => dur(r.longest), sort: (r) => r.longest, align: 'right' },
      { key: 'total', label: 'Total', cell: (r) => dur(r.total), sort: (r) => r.total, align: 'right' },
    ],
  });
  const slowest = dataTable<SlowSpan>({
    testId: 'async-slowest',
    caption: 'Slowest async spans',
    rowKey: (r) => r.key,
    sort: { key: 'duration', desc: true },
    columns: [
      { key: 'name', label: 'Name', cell: (r) => r.name, sort: (r) => r.name },
      { key: 'target', label: 'Target', cell: (r) => r.target, sort: (r) => r.target, secondary: true },
      { key: 'begin', label: 'Started', cell: (r) => formatTime(r.begin, true), sort: (r) => r.begin },
      { key: 'depth', label: 'Depth', cell: (r) => String(r.depth), sort: (r) => r.depth, align: 'right', secondary: true },
      { key: 'duration', label: 'Duration', cell: (r) => dur(r.duration), sort: (r) => r.duration, align: 'right' },
    ],
  });
  setChildren(body, statusBox('loading', 'Loading async spans…'));

  const load = async () => {
    const range = resolved(ctx);
    try {
      const [stats, slow] = await Promise.all([query(asyncStatsSql(processId), range, ctx.signal), query(slowestAsyncSql(processId), range, ctx.signal)]);
      if (stats.numRows === 0) {
        info.textContent = '';
        setChildren(body, statusBox('empty', 'This process recorded no async spans (spanAsync, beginAsyncSpan) in this time range.'));
        return;
      }
      const names = stringColumn(col(stats, 'name'));
      const targets = stringColumn(col(stats, 'target'));
      const [calls, open, p50, p95, longest, total] = ['calls', 'open', 'p50', 'p95', 'longest', 'total'].map((c) => numberColumn(col(stats, c)));
      byName.setRows(names.map((name, i) => ({
        name, target: targets[i]!, calls: calls![i]!, open: open![i]!, p50: p50![i]!, p95: p95![i]!, longest: longest![i]!, total: total![i]!,
      })));
      const sNames = stringColumn(col(slow, 'name'));
      const sTargets = stringColumn(col(slow, 'target'));
      const sDepth = numberColumn(col(slow, 'depth'));
      const sBegin = timeColumnMs(col(slow, 'begin'));
      const sDur = numberColumn(col(slow, 'duration'));
      slowest.setRows(sNames.map((name, i) => ({ key: String(i), name, target: sTargets[i]!, depth: sDepth[i]!, begin: sBegin[i]!, duration: sDur[i]! })));
      const spans = calls!.reduce((a, n) => a + n, 0);
      info.textContent = `${spans.toLocaleString()} async spans, ${names.length.toLocaleString()} name${names.length === 1 ? '' : 's'}`;
      setChildren(body, h('h3', { class: 'sub' }, 'By name'), byName.el, h('h3', { class: 'sub' }, 'Slowest'), slowest.el);
    } catch (err) {
      if (!isAbort(err)) setChildren(body, statusBox('error', `Could not load async spans: ${describeError(err)}`));
    }
  };
  void load();
  return el;
}
