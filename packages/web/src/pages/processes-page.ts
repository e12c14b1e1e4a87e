/**
 * Processes active in the time range: searchable (by properties too: `browser:chrome`), sortable, with their
 * error counts; browser processes show their browser and OS; refreshed every few
 * seconds while the range is live. Search and sort live in the URL.
 */
import { h, setChildren, statusBox, debounce } from '../lib/dom.js';
import { query, describeError, isAbort } from '../app/api.js';
import { liveLoop, resolved, type PageContext } from '../app/page.js';
import { patchParams, linkTo } from '../app/router.js';
import { col, timeColumnMs, numberColumn, stringColumn } from '../lib/arrow-columns.js';
import { dataTable } from '../components/data-table.js';
import { formatTime } from '../lib/time-range.js';
import { processesSql } from '../lib/processes-query.js';
import { deviceSummary, matchesTerms, parseSearch } from '../lib/device-info.js';
import { propertiesToObject } from '../lib/arrow-columns.js';

export interface ProcessRow {
  id: string;
  exe: string;
  computer: string;
  username: string;
  start: number;
  last: number;
  errors: number;
  warnings: number;
  logs: number;
  properties: Record<string, string>;
  /** browser and OS, for browser processes */
  device: string;
}


export function shortExe(exe: string): string {
  const parts = exe.split(/[\\/]/);
  return parts[parts.length - 1] || exe;
}

/** Plain words match the exe, computer, user, id or a property value; `key:value` a property (`browser:chrome`). */
export function matchesSearch(r: ProcessRow, q: string): boolean {
  if (!q) return true;
  return matchesTerms([r.exe, r.computer, r.username, r.id], r.properties, parseSearch(q));
}

export async function processesPage(root: HTMLElement, ctx: PageContext): Promise<void> {
  const params = ctx.route.params;
  let search = params.get('q') ?? '';
  const input = h('input', {
    type: 'search', class: 'search', placeholder: 'Search exe, computer, user, id, properties (browser:chrome os:android)…', value: search,
    'aria-label': 'Search processes', 'data-testid': 'process-search',
  });
  const summary = h('span', { class: 'muted', 'aria-live': 'polite' });
  const body = h('div', { class: 'panel-body' });
  setChildren(root,
    h('div', { class: 'page-head' }, h('h1', {}, 'Processes'), summary),
    h('div', { class: 'toolbar' }, input),
    h('section', { class: 'panel' }, body));

  const sortParam = params.get('sort') ?? '-last';
  const table = dataTable<ProcessRow>({
    testId: 'process-table',
    caption: 'Processes',
    sort: { key: sortParam.replace(/^-/, ''), desc: sortParam.startsWith('-') },
    onSort: (s) => patchParams({ sort: `${s.desc ? '-' : ''}${s.key}` }),
    rowKey: (r) => r.id,
    columns: [
      { key: 'exe', label: 'Executable', sort: (r) => shortExe(r.exe).toLowerCase(), cell: (r) =>
        h('a', { href: linkTo(`/process/${encodeURIComponent(r.id)}`), title: r.exe, class: 'exe-link' }, shortExe(r.exe)) },
      { key: 'computer', label: 'Computer', sort: (r) => (r.device || r.computer).toLowerCase(), cell: (r) =>
        r.device ? h('span', { title: r.computer, 'data-testid': 'process-device' }, r.device) : r.computer },
      { key: 'username', label: 'User', sort: (r) => r.username.toLowerCase(), cell: (r) => r.username, secondary: true },
      { key: 'start', label: 'Started', sort: (r) => r.start, cell: (r) => formatTime(r.start), secondary: true },
      { key: 'last', label: 'Last activity', sort: (r) => r.last || 0, cell: (r) => (r.last ? formatTime(r.last) : '—') },
      { key: 'errors', label: 'Errors', align: 'right', sort: (r) => r.errors, cell: (r) =>
        r.errors > 0 ? h('span', { class: 'badge badge-error' }, r.errors.toLocaleString()) : '0' },
      { key: 'warnings', label: 'Warnings', align: 'right', sort: (r) => r.warnings, secondary: true, cell: (r) =>
        r.warnings > 0 ? h('span', { class: 'badge badge-warn' }, r.warnings.toLocaleString()) : '0' },
      { key: 'logs', label: 'Log lines', align: 'right', sort: (r) => r.logs, secondary: true, cell: (r) => r.logs.toLocaleString() },
    ],
  });

  let rows: ProcessRow[] = [];
  let loaded = false;
  const show = () => {
    const visible = rows.filter((r) => matchesSearch(r, search));
    summary.textContent = loaded ? `${visible.length} of ${rows.length} processes` : '';
    if (!loaded) return;
    if (rows.length === 0) setChildren(body, statusBox('empty', 'No process was active in this time range. Widen the range, or start an instrumented program (npm run demo).'));
    else if (visible.length === 0) setChildren(body, statusBox('empty', `No process matches “${search}”.`));
    else {
      if (table.el.parentElement !== body) setChildren(body, table.el);
      table.setRows(visible);
    }
  };
  input.addEventListener('input', debounce(() => {
    search = input.value.trim();
    patchParams({ q: search || null });
    show();
  }, 120));

  setChildren(body, statusBox('loading', 'Loading processes…'));
  liveLoop(ctx, async (first) => {
    try {
      const range = resolved(ctx);
      const t = await query(processesSql(range), range, ctx.signal);
      const ids = stringColumn(col(t, 'process_id'));
      const exe = stringColumn(col(t, 'exe'));
      const computer = stringColumn(col(t, 'computer'));
      const user = stringColumn(col(t, 'username'));
      const start = timeColumnMs(col(t, 'start_time'));
      const last = timeColumnMs(col(t, 'last_update_time'));
      const errors = numberColumn(col(t, 'errors'));
      const warnings = numberColumn(col(t, 'warnings'));
      const logs = numberColumn(col(t, 'logs'));
      const props = col(t, 'properties');
      rows = ids.map((id, i) => {
        const properties = propertiesToObject(props?.get(i));
        return {
          id, exe: exe[i]!, computer: computer[i]!, username: user[i]!, start: start[i]!, last: last[i]!,
          errors: errors[i]!, warnings: warnings[i]!, logs: logs[i]!, properties, device: deviceSummary(properties),
        };
      });
      loaded = true;
      show();
    } catch (err) {
      if (isAbort(err)) return;
      if (first || !loaded) setChildren(body, statusBox('error', `Could not load processes: ${describeError(err)}`));
    }
  });
}
