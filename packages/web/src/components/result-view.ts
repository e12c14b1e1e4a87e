/**
 * A notebook cell's Arrow result drawn as a table, a time-series chart or a bar chart. Columns are read
 * as whole vectors; the table renders rows in slices so a large result never blocks the page.
 */
import type { Table } from 'apache-arrow';
import { DataType } from 'apache-arrow';
import { h, setChildren, statusBox } from '../lib/dom.js';
import { formatValue, isNumericType, isTimeType, numberColumn, stringColumn, timeColumnMs } from '../lib/arrow-columns.js';
import { pivotSeries, type CellView, type ColumnKind } from '../lib/notebook-model.js';
import { timeChart, type TimeChart } from './time-chart.js';
import { barList } from './bar-list.js';

export function columnKinds(t: Table): { name: string; kind: ColumnKind }[] {
  return t.schema.fields.map((f) => ({
    name: f.name,
    kind: isTimeType(f.type) ? 'time' : isNumericType(f.type) ? 'number' : DataType.isUtf8(f.type) || DataType.isLargeUtf8(f.type) || DataType.isDictionary(f.type) || DataType.isBool(f.type) ? 'string' : 'other',
  }));
}

const SLICE = 200;

/** Renders `t` as `view` into `into`; returns a disposer (charts hold observers). */
export function renderResult(t: Table, view: CellView, into: HTMLElement, opts: { onZoom?(b: number, e: number): void } = {}): () => void {
  if (t.numRows === 0) {
    setChildren(into, statusBox('empty', 'The query returned no rows.'));
    return () => {};
  }
  const kinds = columnKinds(t);
  if (view === 'timeseries') {
    const timeIdx = kinds.findIndex((k) => k.kind === 'time');
    const nums = kinds.filter((k) => k.kind === 'number');
    if (timeIdx < 0 || nums.length === 0) {
      setChildren(into, statusBox('error', 'A time series needs a time column and at least one number column.'));
      return () => {};
    }
    const groupCols = kinds.filter((k) => k.kind === 'string' || k.kind === 'other');
    const groupVals = groupCols.map((k) => stringColumn(t.getChild(k.name)));
    const groups = groupCols.length ? Array.from({ length: t.numRows }, (_, r) => groupVals.map((g) => g[r]).join(' · ')) : null;
    const p = pivotSeries(timeColumnMs(t.getChild(kinds[timeIdx]!.name)), groups,
      nums.map((k) => ({ name: k.name, values: numberColumn(t.getChild(k.name)) })));
    const chart: TimeChart = timeChart({
      x: p.x.map((ms) => ms / 1000), height: 240, testId: 'cell-chart', onZoom: opts.onZoom,
      series: p.series.map((s, i) => ({ label: s.label, values: s.values, color: i })),
    });
    setChildren(into, chart.el);
    return () => chart.destroy();
  }
  if (view === 'bar') {
    const label = kinds.find((k) => k.kind !== 'number') ?? kinds[0]!;
    const value = kinds.find((k) => k.kind === 'number' && k.name !== label.name);
    if (!value) {
      setChildren(into, statusBox('error', 'A bar chart needs a label column and a number column.'));
      return () => {};
    }
    const labels = stringColumn(t.getChild(label.name));
    const values = numberColumn(t.getChild(value.name));
    const n = Math.min(t.numRows, 100);
    setChildren(into, barList(Array.from({ length: n }, (_, i) => ({ label: labels[i] || '(empty)', value: values[i]! })), { testId: 'cell-bars' }),
      t.numRows > n ? h('p', { class: 'muted' }, `first ${n} of ${t.numRows.toLocaleString()} rows`) : null);
    return () => {};
  }
  renderTable(t, into);
  return () => {};
}

function renderTable(t: Table, into: HTMLElement) {
  const fields = t.schema.fields;
  const vectors = fields.map((f) => t.getChild(f.name)!);
  const tbody = h('tbody');
  let shown = 0;
  const more = h('button', { class: 'link-button' });
  const addRows = () => {
    const end = Math.min(t.numRows, shown + SLICE);
    const frag = document.createDocumentFragment();
    for (let r = shown; r < end; r++) {
      frag.append(h('tr', {}, vectors.map((v, c) => {
        const f = fields[c]!;
        return h('td', { class: isNumericType(f.type) ? 'num' : '' }, formatValue(v.get(r), f.type));
      })));
    }
    tbody.append(frag);
    shown = end;
    more.hidden = shown >= t.numRows;
    more.textContent = `Show ${Math.min(SLICE, t.numRows - shown)} more (${(t.numRows - shown).toLocaleString()} left)`;
  };
  more.addEventListener('click', addRows);
  addRows();
  setChildren(into,
    h('div', { class: 'table-wrap result-table' }, h('table', { class: 'data-table', 'data-testid': 'cell-table' },
      h('thead', {}, h('tr', {}, fields.map((f) => h('th', { scope: 'col', class: isNumericType(f.type) ? 'num' : '', title: String(f.type) }, f.name)))),
      tbody)),
    more);
}
