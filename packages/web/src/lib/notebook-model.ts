/**
 * The notebook as data: cells of SQL with a chosen view, saved as JSON on the server. Also the choices a
 * cell makes about its result: which view suits a result's columns, and how a long-format time series
 * (time, group, value) becomes one line per group.
 *
 * ```ts
 * suggestView([{ name: 't', kind: 'time' }, { name: 'n', kind: 'number' }]); // 'timeseries'
 * ```
 */

export type CellView = 'table' | 'timeseries' | 'bar';

export interface Cell {
  id: string;
  title?: string;
  sql: string;
  view: CellView;
}

export interface Notebook {
  id: string;
  title: string;
  cells: Cell[];
  range?: { from: string; to: string };
  /** the server's version this copy came from; null when never saved */
  version: string | null;
}

export type ColumnKind = 'time' | 'number' | 'string' | 'other';

export function randomId(len = 10): string {
  const abc = 'abcdefghijkmnpqrstuvwxyz23456789';
  const bytes = crypto.getRandomValues(new Uint8Array(len));
  return Array.from(bytes, (b) => abc[b % abc.length]).join('');
}

export const STARTER_CELLS: Omit<Cell, 'id'>[] = [
  { title: 'Log lines per minute by level', view: 'timeseries', sql: "SELECT date_bin(INTERVAL '1 minute', time) AS t,\n  CASE level WHEN 1 THEN 'fatal' WHEN 2 THEN 'error' WHEN 3 THEN 'warn' WHEN 4 THEN 'info' WHEN 5 THEN 'debug' ELSE 'trace' END AS level,\n  count(*) AS lines\nFROM log_entries\nGROUP BY ALL\nORDER BY t" },
  { title: 'Noisiest targets', view: 'bar', sql: 'SELECT target, count(*) AS lines\nFROM log_entries\nGROUP BY target\nORDER BY lines DESC\nLIMIT 15' },
  { title: 'Latest errors', view: 'table', sql: 'SELECT time, exe, target, msg\nFROM log_entries\nWHERE level <= 2\nORDER BY time DESC\nLIMIT 100' },
];

export function newNotebook(id: string): Notebook {
  return { id, title: 'Untitled notebook', cells: STARTER_CELLS.map((c) => ({ ...c, id: randomId(8) })), version: null };
}

export function addCell(nb: Notebook, after: number, cell: Partial<Cell> = {}): Notebook {
  const c: Cell = { id: randomId(8), sql: cell.sql ?? 'SELECT ', view: cell.view ?? 'table', ...(cell.title ? { title: cell.title } : {}) };
  const cells = [...nb.cells];
  cells.splice(Math.max(0, Math.min(after + 1, cells.length)), 0, c);
  return { ...nb, cells };
}

export function removeCell(nb: Notebook, index: number): Notebook {
  return { ...nb, cells: nb.cells.filter((_, i) => i !== index) };
}

export function moveCell(nb: Notebook, index: number, delta: -1 | 1): Notebook {
  const j = index + delta;
  if (j < 0 || j >= nb.cells.length) return nb;
  const cells = [...nb.cells];
  [cells[index], cells[j]] = [cells[j]!, cells[index]!];
  return { ...nb, cells };
}

/** The part of `Storage` the run memory needs (sessionStorage in the browser). */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** cells remembered per notebook; the oldest are forgotten first */
const RAN_LIMIT = 200;
const ranKey = (notebookId: string) => `sirius.notebook-ran.${notebookId}`;

function readRan(store: KeyValueStore, notebookId: string): [string, string][] {
  try {
    const parsed: unknown = JSON.parse(store.getItem(ranKey(notebookId)) ?? '[]');
    return Array.isArray(parsed) ? parsed.filter((e): e is [string, string] => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * Whether this tab already ran this cell with exactly this SQL. Opening a shared notebook runs only such
 * cells: a link must not run SQL its reader has not seen (someone may have changed a cell since), and a
 * notebook of heavy queries should not load the server just by being opened.
 */
export function hasRun(store: KeyValueStore | null, notebookId: string, cell: Pick<Cell, 'id' | 'sql'>): boolean {
  if (!store) return false;
  return readRan(store, notebookId).some(([id, sql]) => id === cell.id && sql === cell.sql);
}

/** Remembers that this tab ran the cell with this SQL; storage that is full or off only loses the memory. */
export function rememberRun(store: KeyValueStore | null, notebookId: string, cell: Pick<Cell, 'id' | 'sql'>): void {
  if (!store) return;
  const kept = readRan(store, notebookId).filter(([id]) => id !== cell.id);
  kept.push([cell.id, cell.sql]);
  try {
    store.setItem(ranKey(notebookId), JSON.stringify(kept.slice(-RAN_LIMIT)));
  } catch {
    // over quota: the cell will just wait for its Run button next time
  }
}

/** The body of `PUT /api/notebooks/:id`. */
export function toSaveBody(nb: Notebook): { title: string; cells: Cell[]; range?: { from: string; to: string }; baseVersion: string | null } {
  return {
    title: nb.title.trim() || 'Untitled notebook',
    cells: nb.cells.map((c) => ({ id: c.id, sql: c.sql, view: c.view, ...(c.title ? { title: c.title } : {}) })),
    ...(nb.range ? { range: nb.range } : {}),
    baseVersion: nb.version,
  };
}

/** A time column then numbers → time series; a label then a number → bars; anything else → table. */
export function suggestView(cols: { name: string; kind: ColumnKind }[]): CellView {
  const time = cols.findIndex((c) => c.kind === 'time');
  const nums = cols.filter((c) => c.kind === 'number').length;
  if (time >= 0 && nums > 0) return 'timeseries';
  if (cols.length === 2 && cols[0]!.kind === 'string' && cols[1]!.kind === 'number') return 'bar';
  return 'table';
}

export interface SeriesSet {
  /** epoch ms, ascending, distinct */
  x: number[];
  series: { label: string; values: (number | null)[] }[];
}

/**
 * Turns rows (time, [group columns], numbers) into chart series: without a group column each number column
 * is a series; with one, each (group, number column) pair is. Rows need not be sorted; repeated
 * (time, series) points are summed. At most `maxSeries` series (the largest by total) are kept.
 */
export function pivotSeries(
  time: ArrayLike<number>,
  groups: string[] | null,
  numbers: { name: string; values: ArrayLike<number> }[],
  maxSeries = 12,
): SeriesSet {
  const xs = [...new Set(Array.from(time).filter((t) => Number.isFinite(t)))].sort((a, b) => a - b);
  const xi = new Map(xs.map((x, i) => [x, i]));
  const byLabel = new Map<string, { values: (number | null)[]; total: number }>();
  for (let r = 0; r < time.length; r++) {
    const i = xi.get(time[r]!);
    if (i === undefined) continue;
    for (const n of numbers) {
      const v = n.values[r]!;
      if (!Number.isFinite(v)) continue;
      const label = groups ? (numbers.length > 1 ? `${groups[r]} · ${n.name}` : groups[r]!) : n.name;
      let s = byLabel.get(label);
      if (!s) byLabel.set(label, (s = { values: new Array<number | null>(xs.length).fill(null), total: 0 }));
      s.values[i] = (s.values[i] ?? 0) + v;
      s.total += Math.abs(v);
    }
  }
  const series = [...byLabel.entries()]
    .sort((a, b) => b[1].total - a[1].total || a[0].localeCompare(b[0]))
    .slice(0, maxSeries)
    .sort((a, b) => a[0].localeCompare(b[0], undefined, { numeric: true }))
    .map(([label, s]) => ({ label, values: s.values }));
  return { x: xs, series };
}
