/**
 * A sortable table over rows the page already has (a few thousand at most: processes, top-N lists).
 * Headers are buttons so sorting is keyboard-reachable; `aria-sort` says the current order.
 */
import { h, setChildren } from '../lib/dom.js';

export interface Column<R> {
  key: string;
  label: string;
  /** what the cell shows */
  cell(r: R): Node | string;
  /** what the column sorts by; absent: not sortable */
  sort?(r: R): number | string;
  align?: 'right';
  /** hidden on narrow screens */
  secondary?: boolean;
}

export interface DataTable<R> {
  el: HTMLElement;
  setRows(rows: R[]): void;
  /** current sort, for the URL */
  sort: { key: string; desc: boolean };
}

export function dataTable<R>(opts: {
  columns: Column<R>[];
  sort: { key: string; desc: boolean };
  onSort?(s: { key: string; desc: boolean }): void;
  rowKey?(r: R): string;
  caption?: string;
  testId?: string;
}): DataTable<R> {
  const thead = h('thead');
  const tbody = h('tbody');
  const table = h('table', { class: 'data-table', 'data-testid': opts.testId }, opts.caption ? h('caption', { class: 'sr-only' }, opts.caption) : null, thead, tbody);
  const el = h('div', { class: 'table-wrap' }, table);
  let rows: R[] = [];
  const state: DataTable<R> = { el, setRows, sort: { ...opts.sort } };

  function renderHead() {
    setChildren(thead, h('tr', {}, opts.columns.map((c) => {
      const active = state.sort.key === c.key;
      const th = h('th', {
        scope: 'col',
        class: [c.align === 'right' ? 'num' : '', c.secondary ? 'secondary' : ''].join(' '),
        'aria-sort': active ? (state.sort.desc ? 'descending' : 'ascending') : undefined,
      });
      if (!c.sort) th.append(c.label);
      else th.append(h('button', {
        class: 'sort-button', 'data-sort': c.key,
        onclick: () => {
          state.sort = { key: c.key, desc: active ? !state.sort.desc : c.align === 'right' };
          opts.onSort?.(state.sort);
          renderHead();
          renderBody();
        },
      }, c.label, h('span', { class: 'sort-mark', 'aria-hidden': 'true' }, active ? (state.sort.desc ? ' ▾' : ' ▴') : '')));
      return th;
    })));
  }

  function renderBody() {
    const col = opts.columns.find((c) => c.key === state.sort.key);
    const sorted = col?.sort ? [...rows].sort((a, b) => {
      const x = col.sort!(a);
      const y = col.sort!(b);
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return state.sort.desc ? -c : c;
    }) : rows;
    const frag = document.createDocumentFragment();
    for (const r of sorted) {
      frag.append(h('tr', { 'data-key': opts.rowKey?.(r) }, opts.columns.map((c) =>
        h('td', { class: [c.align === 'right' ? 'num' : '', c.secondary ? 'secondary' : ''].join(' '), 'data-col': c.key }, c.cell(r)))));
    }
    tbody.replaceChildren(frag);
  }

  function setRows(r: R[]) {
    rows = r;
    renderBody();
  }

  renderHead();
  return state;
}
