/**
 * The app shell: header (navigation, time range, theme), then the page the URL names. A page is re-mounted
 * when the path or its parameters change; leaving a page aborts its queries and timers.
 */
import './styles.css';
import { h, setChildren } from './lib/dom.js';
import { parseRoute, onNavigate, interceptLinks, setParams, linkTo, type Route } from './app/router.js';
import { rangeFromParams } from './lib/time-range.js';
import { timePicker } from './components/time-picker.js';
import { themeToggle, applyTheme, currentTheme } from './app/theme.js';
import { onBusyChange } from './app/api.js';
import type { Page } from './app/page.js';
import { processesPage } from './pages/processes-page.js';
import { processPage } from './pages/process-page.js';
import { overviewPage } from './pages/overview-page.js';
import { tracesPage, tracePage } from './pages/traces-page.js';
import { exposeDebug } from './app/debug.js';

const PAGES: Record<Route['page'], Page> = {
  processes: processesPage,
  process: processPage,
  overview: overviewPage,
  traces: tracesPage,
  trace: tracePage,
  // the notebook brings CodeMirror: loaded only when a notebook is opened
  notebooks: (root, ctx) => import('./pages/notebook-page.js').then((m) => m.notebooksPage(root, ctx)),
  notebook: (root, ctx) => import('./pages/notebook-page.js').then((m) => m.notebookPage(root, ctx)),
  'not-found': (root) => {
    setChildren(root, h('div', { class: 'status status-empty' }, 'Nothing here. ', h('a', { href: '/' }, 'Go to processes')));
  },
};

const NAV: [Route['page'][], string, string][] = [
  [['overview'], '/overview', 'Overview'],
  [['processes', 'process'], '/processes', 'Processes'],
  [['traces', 'trace'], '/traces', 'Traces'],
  [['notebooks', 'notebook'], '/notebooks', 'Notebooks'],
];

applyTheme(currentTheme());
exposeDebug();

const app = document.getElementById('app')!;
const nav = h('nav', { class: 'nav', 'aria-label': 'Main' });
const pickerSlot = h('div', { class: 'picker-slot' });
const busy = h('div', { class: 'busy-bar', 'aria-hidden': 'true' });
const header = h('header', { class: 'topbar' },
  h('a', { class: 'brand', href: '/', 'aria-label': 'Sirius home' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '✦'), 'Sirius'),
  nav, h('div', { class: 'spacer' }), pickerSlot, themeToggle(), busy);
const main = h('main', { id: 'main', class: 'main', tabindex: '-1' });
app.append(h('a', { class: 'skip-link', href: '#main' }, 'Skip to content'), header, main);
interceptLinks(app);
onBusyChange((n) => busy.classList.toggle('on', n > 0));

let current: AbortController | null = null;
let lastKey = '';

function render(): void {
  const route = parseRoute(location.pathname, location.search);
  const key = location.pathname + location.search;
  if (key === lastKey) return;
  lastKey = key;
  current?.abort();
  current = new AbortController();
  const range = rangeFromParams(route.params);
  setChildren(nav, NAV.map(([pages, href, label]) => {
    const active = pages.includes(route.page);
    return h('a', { href: linkTo(href), class: active ? 'active' : '', 'aria-current': active ? 'page' : undefined }, label);
  }));
  setChildren(pickerSlot, timePicker(range, (r) => setParams({ from: r.from, to: r.to })));
  // keep keyboard focus meaningful across re-renders: the same control if the new page has it, else the page
  const active = document.activeElement as HTMLElement | null;
  const focusKey = active?.dataset.tab ? `[data-tab="${active.dataset.tab}"]` : active?.dataset.testid ? `[data-testid="${active.dataset.testid}"]` : null;
  const hadFocus = active !== null && active !== document.body && !pickerSlot.contains(active);
  const root = h('div', { class: `page page-${route.page}` });
  setChildren(main, root);
  document.title = `Sirius — ${route.page === 'process' ? 'Process' : route.page[0]!.toUpperCase() + route.page.slice(1)}`;
  void Promise.resolve(PAGES[route.page](root, { route, range, signal: current.signal })).catch((err) => {
    if ((err as Error)?.name !== 'AbortError') console.warn(err);
  });
  if (hadFocus) {
    const again = focusKey ? root.querySelector<HTMLElement>(focusKey) : null;
    (again ?? main).focus({ preventScroll: true });
  }
}

onNavigate(() => {
  lastKey = '';
  render();
});
render();
