/**
 * SQL notebooks: cells of SQL over the shared time range, each shown as a table, a time series or bars,
 * with the engine's error (and position) next to the cell. Saved on the server (`/api/notebooks`), so the
 * URL `/notebooks/<id>?from=…&to=…` is the notebook to share.
 */
import { h, setChildren, statusBox } from '../lib/dom.js';
import { api, ApiError, query, describeError, isAbort, QueryError } from '../app/api.js';
import { resolved, type PageContext } from '../app/page.js';
import { navigate, setParams, linkTo, patchParams } from '../app/router.js';
import { absoluteRange } from '../lib/time-range.js';
import { addCell, hasRun, moveCell, newNotebook, randomId, rememberRun, removeCell, suggestView, toSaveBody, type Cell, type CellView, type KeyValueStore, type Notebook } from '../lib/notebook-model.js';
import { sqlEditor, type SqlEditor } from '../components/sql-editor.js';
import { renderResult, columnKinds } from '../components/result-view.js';

interface Summary {
  id: string;
  title: string;
  cellCount: number;
  savedAt: string;
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export async function notebooksPage(root: HTMLElement, ctx: PageContext): Promise<void> {
  const list = h('div', {});
  setChildren(root,
    h('div', { class: 'page-head' }, h('h1', {}, 'Notebooks'), h('span', { class: 'spacer' }),
      h('button', { class: 'primary', 'data-testid': 'new-notebook', onclick: () => navigate(`/notebooks/${randomId()}?new=1`) }, 'New notebook')),
    h('section', { class: 'panel' }, list));
  setChildren(list, statusBox('loading', 'Loading notebooks…'));
  try {
    const { notebooks } = await api<{ notebooks: Summary[] }>('/api/notebooks', { signal: ctx.signal });
    if (notebooks.length === 0) {
      setChildren(list, statusBox('empty', 'No saved notebook yet. Start one with “New notebook”: it opens with example queries.'));
      return;
    }
    setChildren(list, h('ul', { class: 'nb-list', 'data-testid': 'notebook-list' }, notebooks.map((n) =>
      h('li', {}, h('a', { href: linkTo(`/notebooks/${encodeURIComponent(n.id)}`) }, n.title),
        h('span', { class: 'muted' }, ` · ${n.cellCount} cell${n.cellCount === 1 ? '' : 's'} · saved ${new Date(n.savedAt).toLocaleString()}`)))));
  } catch (err) {
    if (!isAbort(err)) setChildren(list, statusBox('error', `Could not list notebooks: ${describeError(err)}`));
  }
}

export async function notebookPage(root: HTMLElement, ctx: PageContext): Promise<void> {
  const id = ctx.route.id ?? '';
  if (!ID_RE.test(id)) {
    setChildren(root, statusBox('error', `“${id}” is not a notebook id (letters, digits, - and _).`));
    return;
  }
  // a notebook just created here has nothing on the server yet: do not ask (a 404 is noise in the console)
  if (ctx.route.params.get('new') === '1') {
    mountNotebook(root, ctx, newNotebook(id));
    return;
  }
  setChildren(root, statusBox('loading', 'Opening notebook…'));
  let nb: Notebook;
  try {
    const saved = await api<Notebook & { version: string }>(`/api/notebooks/${encodeURIComponent(id)}`, { signal: ctx.signal });
    nb = { id, title: saved.title, cells: saved.cells, range: saved.range, version: saved.version };
    // a shared link without a range opens with the range the notebook was saved with
    if (saved.range && !ctx.route.params.has('from')) {
      navigate(`/notebooks/${encodeURIComponent(id)}?from=${encodeURIComponent(saved.range.from)}&to=${encodeURIComponent(saved.range.to)}`, { replace: true });
      return;
    }
  } catch (err) {
    if (isAbort(err)) return;
    if (err instanceof ApiError && err.status === 404) nb = newNotebook(id);
    else {
      setChildren(root, statusBox('error', `Could not open the notebook: ${describeError(err)}`));
      return;
    }
  }
  mountNotebook(root, ctx, nb);
}

function mountNotebook(root: HTMLElement, ctx: PageContext, initial: Notebook) {
  let nb = initial;
  let dirty = initial.version === null;
  const status = h('span', { class: 'muted', 'aria-live': 'polite', 'data-testid': 'notebook-status' });
  const titleIn = h('input', { class: 'title-input', value: nb.title, 'aria-label': 'Notebook title', 'data-testid': 'notebook-title' });
  const cellsEl = h('div', { class: 'cells' });
  const setStatus = () => (status.textContent = dirty ? (nb.version ? 'Unsaved changes' : 'Not saved yet') : 'Saved');
  const markDirty = () => {
    dirty = true;
    setStatus();
  };
  titleIn.addEventListener('input', () => {
    nb = { ...nb, title: titleIn.value };
    markDirty();
  });

  const save = async () => {
    status.textContent = 'Saving…';
    try {
      const saved = await api<{ version: string }>(`/api/notebooks/${encodeURIComponent(nb.id)}`, {
        method: 'PUT', body: JSON.stringify(toSaveBody({ ...nb, range: ctx.range })),
      });
      nb = { ...nb, version: saved.version, range: ctx.range };
      dirty = false;
      patchParams({ new: null });
      setStatus();
    } catch (err) {
      status.textContent = err instanceof ApiError && err.status === 409
        ? 'Someone saved this notebook since you opened it: reload to see their version (your edits stay until you do).'
        : `Save failed: ${describeError(err)}`;
    }
  };
  const copyLink = async () => {
    const url = location.origin + linkTo(`/notebooks/${encodeURIComponent(nb.id)}`);
    try {
      await navigator.clipboard.writeText(url);
      status.textContent = 'Link copied';
    } catch {
      status.textContent = url;
    }
  };

  const ranMemory = sessionStore();
  /** each rendered cell's run, and whether this tab ran its current SQL before */
  const runners: { run: () => Promise<void>; ranBefore: () => boolean }[] = [];
  const renderCells = () => {
    runners.length = 0;
    setChildren(cellsEl, nb.cells.map((c, i) => cellView(c, i)));
  };

  function cellView(cell: Cell, index: number): HTMLElement {
    const result = h('div', { class: 'cell-result', 'data-testid': 'cell-result' },
      h('div', { class: 'muted', 'data-testid': 'cell-not-run' }, 'Not run yet: press Run (Ctrl+Enter), or Run all.'));
    const meta = h('span', { class: 'muted', 'aria-live': 'polite', 'data-testid': 'cell-meta' });
    const errorBox = h('div', { class: 'cell-error', role: 'alert', hidden: true, 'data-testid': 'cell-error' });
    const viewSel = h('select', { 'aria-label': 'Show as', 'data-testid': 'cell-view' },
      (['table', 'timeseries', 'bar'] as CellView[]).map((v) => h('option', { value: v, selected: v === cell.view }, v === 'timeseries' ? 'time series' : v)));
    const titleIn = h('input', { class: 'cell-title', value: cell.title ?? '', placeholder: `Cell ${index + 1}`, 'aria-label': `Cell ${index + 1} title` });
    let last: import('apache-arrow').Table | null = null;
    let dispose = () => {};
    let runAbort: AbortController | null = null;
    const update = (patch: Partial<Cell>) => {
      const cells = [...nb.cells];
      cells[index] = { ...cells[index]!, ...patch };
      nb = { ...nb, cells };
      markDirty();
    };
    const editor: SqlEditor = sqlEditor({ doc: cell.sql, label: `SQL of cell ${index + 1}`, onRun: () => void run(), onChange: (sql) => update({ sql }) });
    const draw = () => {
      dispose();
      if (last) dispose = renderResult(last, viewSel.value as CellView, result, {
        onZoom: (b, e) => {
          const r = absoluteRange(Math.round(b), Math.round(e));
          setParams({ from: r.from, to: r.to });
        },
      });
    };
    const run = async () => {
      runAbort?.abort();
      runAbort = new AbortController();
      ctx.signal.addEventListener('abort', () => runAbort?.abort(), { once: true });
      errorBox.hidden = true;
      editor.markError(undefined);
      meta.textContent = 'Running…';
      result.classList.add('stale');
      const t0 = performance.now();
      const sql = editor.value();
      rememberRun(ranMemory, nb.id, { id: cell.id, sql });
      try {
        last = await query(sql, resolved(ctx), runAbort.signal);
        meta.textContent = `${last.numRows.toLocaleString()} row${last.numRows === 1 ? '' : 's'} · ${Math.round(performance.now() - t0)} ms`;
        // a fresh cell with the default view shows its result the way its columns suggest
        if (viewSel.value === 'table' && !cell.title && cell.sql === 'SELECT ') viewSel.value = suggestView(columnKinds(last));
        draw();
      } catch (err) {
        if (isAbort(err)) return;
        last = null;
        dispose();
        setChildren(result);
        meta.textContent = 'Failed';
        errorBox.hidden = false;
        const pos = err instanceof QueryError ? err.position : undefined;
        setChildren(errorBox, h('strong', {}, 'Error'), pos ? h('span', { class: 'muted' }, ` at ${lineCol(editor.value(), pos)}`) : null,
          h('pre', {}, err instanceof Error ? err.message : String(err)));
        editor.markError(pos);
      } finally {
        result.classList.remove('stale');
      }
    };
    runners.push({ run, ranBefore: () => hasRun(ranMemory, nb.id, { id: cell.id, sql: editor.value() }) });
    viewSel.addEventListener('change', () => {
      update({ view: viewSel.value as CellView });
      draw();
    });
    titleIn.addEventListener('input', () => update({ title: titleIn.value || undefined }));
    const act = (label: string, fn: () => void, testId?: string) => h('button', { class: 'icon-button', 'aria-label': label, title: label, onclick: fn, 'data-testid': testId }, label === 'Move up' ? '↑' : label === 'Move down' ? '↓' : label === 'Delete cell' ? '✕' : '+');
    return h('section', { class: 'cell panel', 'data-testid': 'cell', 'aria-label': `Cell ${index + 1}` },
      h('div', { class: 'cell-head' }, titleIn, h('span', { class: 'spacer' }), viewSel,
        h('button', { class: 'primary', onclick: () => void run(), 'data-testid': 'cell-run', title: 'Run (Ctrl+Enter)' }, 'Run'),
        act('Move up', () => { nb = moveCell(nb, index, -1); markDirty(); renderCells(); void runAll(true); }),
        act('Move down', () => { nb = moveCell(nb, index, 1); markDirty(); renderCells(); void runAll(true); }),
        act('Add cell below', () => { nb = addCell(nb, index); markDirty(); renderCells(); void runAll(true); }, 'cell-add'),
        act('Delete cell', () => { nb = removeCell(nb, index); markDirty(); renderCells(); void runAll(true); })),
      editor.el, errorBox, h('div', { class: 'cell-foot' }, meta), result);
  }

  /** every cell, or with `onlyRanBefore` just those this tab already ran with their current SQL */
  const runAll = async (onlyRanBefore = false) => {
    // a few at a time: the server runs them in parallel anyway, and the first cells show first
    const queue = runners.filter((r) => !onlyRanBefore || r.ranBefore()).map((r) => r.run);
    const worker = async () => {
      for (let r = queue.shift(); r; r = queue.shift()) await r();
    };
    await Promise.all([worker(), worker()]);
  };

  root.addEventListener('keydown', (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key === 's') {
      e.preventDefault();
      void save();
    }
  });
  setChildren(root,
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: linkTo('/notebooks') }, 'Notebooks'), ' / ', h('span', {}, nb.id)),
    h('div', { class: 'page-head notebook-head' }, titleIn, h('span', { class: 'spacer' }), status,
      h('button', { onclick: () => void runAll(), 'data-testid': 'run-all', title: 'Run every cell' }, 'Run all'),
      h('button', { onclick: () => { nb = addCell(nb, nb.cells.length - 1); markDirty(); renderCells(); void runAll(true); void runners[runners.length - 1]?.run(); }, 'data-testid': 'add-cell' }, 'Add cell'),
      h('button', { onclick: () => void copyLink() }, 'Copy link'),
      h('button', { class: 'primary', onclick: () => void save(), 'data-testid': 'save-notebook', title: 'Save (Ctrl+S)' }, 'Save')),
    cellsEl);
  setStatus();
  renderCells();
  if (nb.cells.length === 0) setChildren(cellsEl, statusBox('empty', 'This notebook has no cells. Add one.'));
  // a notebook never saved holds this app's own starter queries; a saved one may hold anybody's SQL
  void runAll(initial.version !== null);
}

function sessionStore(): KeyValueStore | null {
  try {
    return window.sessionStorage;
  } catch {
    // storage disabled by the browser: nothing is remembered, so nothing runs on open
    return null;
  }
}

/** "line 2, column 7" for a 1-based character position. */
export function lineCol(text: string, position: number): string {
  const before = text.slice(0, Math.max(0, position - 1));
  const line = before.split('\n').length;
  const col = before.length - before.lastIndexOf('\n');
  return `line ${line}, column ${col}`;
}
