/**
 * The log viewer: level, text and target filters, a virtualized list that pages rows in from the engine
 * as they scroll into view, and a live tail that follows new lines while the range is live (scrolling up
 * pauses it, like `less +F`). Filters are kept in the URL.
 */
import { h, setChildren, statusBox, debounce } from '../lib/dom.js';
import { query, describeError, isAbort } from '../app/api.js';
import { liveLoop, resolved, type PageContext } from '../app/page.js';
import { patchParams } from '../app/router.js';
import { col, timeColumnMs, numberColumn, stringColumn } from '../lib/arrow-columns.js';
import { logCountSql, logPageSql, levelName, type LogFilter } from '../lib/log-query.js';
import { pagesFor } from '../lib/virtual-window.js';
import { isLive, formatTime, type ResolvedRange } from '../lib/time-range.js';
import { virtualList } from './virtual-list.js';
import { debugState } from '../app/debug.js';

const PAGE = 500;
const ROW_H = 22;

interface LogPage {
  time: Float64Array;
  level: Float64Array;
  target: string[];
  msg: string[];
}

export function logViewer(ctx: PageContext, processId: string | undefined): HTMLElement {
  const p = ctx.route.params;
  const filter: LogFilter = {
    processId,
    maxLevel: Number(p.get('level') ?? 6) || 6,
    search: p.get('q') ?? '',
    target: p.get('target') ?? '',
  };
  const levelSel = h('select', { 'aria-label': 'Maximum level', 'data-testid': 'log-level' },
    [[6, 'All levels'], [5, 'Debug and above'], [4, 'Info and above'], [3, 'Warnings and errors'], [2, 'Errors'], [1, 'Fatal only']].map(([v, l]) =>
      h('option', { value: String(v), selected: Number(v) === filter.maxLevel }, String(l))));
  const searchIn = h('input', { type: 'search', placeholder: 'Search messages…', value: filter.search, 'aria-label': 'Search messages', 'data-testid': 'log-search' });
  const targetIn = h('input', { type: 'search', placeholder: 'Target…', value: filter.target, 'aria-label': 'Filter by target', 'data-testid': 'log-target', class: 'narrow' });
  const live = isLive(ctx.range);
  const tailBox = h('input', { type: 'checkbox', checked: live, disabled: !live, 'data-testid': 'log-tail' });
  const tailLabel = h('label', { class: 'check', title: live ? 'Follow new lines' : 'Live tail needs a range ending now' }, tailBox, 'Live tail');
  const countEl = h('span', { class: 'muted', 'aria-live': 'polite', 'data-testid': 'log-count' });
  const body = h('div', { class: 'log-body' });
  const el = h('section', { class: 'panel log-viewer', 'aria-label': 'Logs' },
    h('div', { class: 'toolbar' }, levelSel, searchIn, targetIn, tailLabel, h('span', { class: 'spacer' }), countEl),
    body);

  let snapshot: ResolvedRange = resolved(ctx);
  let total = -1;
  let generation = 0;
  let pages = new Map<number, LogPage | 'loading'>();
  /** pages shown until their refetch lands (the tail page while new lines arrive) */
  const stale = new Set<number>();
  let abort = new AbortController();
  ctx.signal.addEventListener('abort', () => abort.abort());

  const header = h('div', { class: 'log-row log-head', role: 'row' },
    h('span', { class: 'c-time', role: 'columnheader' }, 'Time'), h('span', { class: 'c-level', role: 'columnheader' }, 'Level'),
    h('span', { class: 'c-target', role: 'columnheader' }, 'Target'), h('span', { class: 'c-msg', role: 'columnheader' }, 'Message'));

  const list = virtualList({
    rowHeight: ROW_H,
    label: 'Log lines',
    testId: 'log-list',
    renderRow(i) {
      const pg = pages.get(Math.floor(i / PAGE));
      if (!pg || pg === 'loading') return h('div', { class: 'log-row placeholder' }, h('span', { class: 'c-msg muted' }, '…'));
      const k = i % PAGE;
      if (k >= pg.msg.length) return h('div', { class: 'log-row' });
      const lvl = pg.level[k]!;
      return h('div', { class: `log-row lvl-${lvl}` },
        h('span', { class: 'c-time', role: 'cell' }, formatTime(pg.time[k]!, true)),
        h('span', { class: 'c-level', role: 'cell' }, levelName(lvl)),
        h('span', { class: 'c-target', role: 'cell', title: pg.target[k] }, pg.target[k]),
        h('span', { class: 'c-msg', role: 'cell', title: pg.msg[k]!.length > 120 ? pg.msg[k] : undefined }, pg.msg[k]));
    },
    onWindow: (first, last) => void ensurePages(first, last),
    onUserScroll: () => {
      if (tailBox.checked && !list.isAtEnd()) tailBox.checked = false;
    },
  });

  async function ensurePages(first: number, last: number) {
    const gen = generation;
    const wanted = pagesFor(first, Math.min(last, Math.max(total, 0)), PAGE).filter((n) => !pages.has(n) || stale.has(n));
    await Promise.all(wanted.map(async (n) => {
      if (stale.has(n)) stale.delete(n);
      else pages.set(n, 'loading');
      try {
        const q = logPageSql(filter, n, PAGE, total);
        const t = await query(q.sql, snapshot, abort.signal);
        if (gen !== generation) return;
        const pg = {
          time: timeColumnMs(col(t, 'time')), level: numberColumn(col(t, 'level')),
          target: stringColumn(col(t, 'target')), msg: stringColumn(col(t, 'msg')),
        };
        if (q.reversed) {
          pg.time.reverse();
          pg.level.reverse();
          pg.target.reverse();
          pg.msg.reverse();
        }
        pages.set(n, pg);
        debugState().logs = { total, loadedPages: [...pages.values()].filter((v) => v !== 'loading').length };
        list.refresh();
      } catch (err) {
        if (gen === generation) pages.delete(n);
        if (!isAbort(err)) setChildren(body, statusBox('error', `Could not load log lines: ${describeError(err)}`));
      }
    }));
  }

  /** Recount with the current filters and range; keep loaded pages only if nothing moved. */
  async function reload(fresh: boolean) {
    if (fresh) {
      abort.abort();
      abort = new AbortController();
      total = -1;
      setChildren(body, statusBox('loading', 'Loading log lines…'));
    }
    // a live refresh keeps the start and only moves the end, so rows keep their offsets and only the
    // last pages change: no flicker while tailing
    const now = resolved(ctx);
    const range = fresh ? now : { begin: snapshot.begin, end: now.end };
    const gen = ++generation;
    try {
      const t = await query(logCountSql(filter), range, abort.signal);
      if (gen !== generation) return;
      const n = numberColumn(col(t, 'n'))[0] ?? 0;
      if (fresh) {
        pages = new Map();
        stale.clear();
      }
      else if (n !== total) for (const k of pages.keys()) if ((k + 1) * PAGE > Math.max(0, total) - 1) stale.add(k);
      snapshot = range;
      total = n;
      debugState().logs = { total, loadedPages: 0 };
      countEl.textContent = `${n.toLocaleString()} line${n === 1 ? '' : 's'}`;
      if (n === 0) {
        setChildren(body, statusBox('empty', filter.search || filter.target || filter.maxLevel < 6
          ? 'No log line matches these filters in this time range.'
          : 'No log lines in this time range.'));
        return;
      }
      if (list.el.parentElement !== body) setChildren(body, header, list.el);
      list.setCount(n);
      if (tailBox.checked) list.scrollToEnd();
      const w = list.window();
      await ensurePages(w.first, w.last);
    } catch (err) {
      if (isAbort(err) || gen !== generation) return;
      setChildren(body, statusBox('error', `Could not count log lines: ${describeError(err)}`));
    }
  }

  const applyFilters = () => {
    filter.maxLevel = Number(levelSel.value);
    filter.search = searchIn.value.trim();
    filter.target = targetIn.value.trim();
    patchParams({ level: filter.maxLevel < 6 ? String(filter.maxLevel) : null, q: filter.search || null, target: filter.target || null });
    void reload(true);
  };
  levelSel.addEventListener('change', applyFilters);
  const debounced = debounce(applyFilters, 250);
  searchIn.addEventListener('input', debounced);
  targetIn.addEventListener('input', debounced);
  tailBox.addEventListener('change', () => tailBox.checked && list.scrollToEnd());

  liveLoop(ctx, (first) => reload(first), 3000);
  return el;
}
