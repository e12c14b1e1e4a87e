/**
 * One process: who it is (exe, computer, or for a browser its browser and device; properties, streams), then
 * tabs for its logs, metrics, frames and thread timeline. The tab is in the URL (`?tab=logs`).
 */
import { h, setChildren, statusBox } from '../lib/dom.js';
import { query, describeError, isAbort } from '../app/api.js';
import { resolved, type PageContext } from '../app/page.js';
import { setParams, linkTo } from '../app/router.js';
import { col, propertiesToObject, stringColumn, timeColumnMs } from '../lib/arrow-columns.js';
import { lit, isSafeId } from '../lib/sql.js';
import { formatTime } from '../lib/time-range.js';
import { logViewer } from '../components/log-viewer.js';
import { metricsPanel } from './process/metrics-panel.js';
import { asyncPanel } from './process/async-panel.js';
import { timelinePanel, type ThreadStream } from './process/timeline-panel.js';
import { framesPanel } from './process/frames-panel.js';
import { deviceFacts } from '../lib/device-info.js';
import { shortExe } from './processes-page.js';

const TABS = [
  ['logs', 'Logs'],
  ['metrics', 'Metrics'],
  ['frames', 'Frames'],
  ['timeline', 'Timeline'],
  ['async', 'Async spans'],
  ['details', 'Details'],
] as const;

interface StreamInfo {
  id: string;
  tags: string[];
  properties: Record<string, string>;
  created: number;
  last: number;
}

export async function processPage(root: HTMLElement, ctx: PageContext): Promise<void> {
  const id = ctx.route.id ?? '';
  if (!isSafeId(id)) {
    setChildren(root, statusBox('error', `“${id}” is not a process id.`));
    return;
  }
  const tab = (TABS.find(([k]) => k === ctx.route.params.get('tab'))?.[0] ?? 'logs') as (typeof TABS)[number][0];
  const title = h('h1', {}, 'Process');
  const facts = h('div', { class: 'facts' });
  const tabBar = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Process views' },
    TABS.map(([k, label]) => h('button', {
      role: 'tab', 'aria-selected': String(k === tab), class: k === tab ? 'active' : '', 'data-tab': k,
      tabindex: k === tab ? '0' : '-1',
      onclick: () => setParams({ tab: k }),
    }, label)));
  tabBar.addEventListener('keydown', (e) => {
    const i = TABS.findIndex(([k]) => k === tab);
    const next = e.key === 'ArrowRight' ? i + 1 : e.key === 'ArrowLeft' ? i - 1 : -1;
    if (next >= 0 && next < TABS.length) setParams({ tab: TABS[next]![0] });
  });
  const content = h('div', { class: 'tab-content', role: 'tabpanel' });
  setChildren(root,
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: linkTo('/processes') }, 'Processes'), ' / ', h('span', {}, id)),
    h('div', { class: 'page-head' }, title), facts, tabBar, content);

  const range = resolved(ctx);
  setChildren(facts, statusBox('loading', 'Loading process…'));
  let streams: StreamInfo[] = [];
  try {
    const [p, s] = await Promise.all([
      query(`SELECT * FROM processes WHERE process_id = ${lit(id)}`, range, ctx.signal),
      query(`SELECT stream_id, tags, properties, insert_time, last_update_time FROM streams WHERE process_id = ${lit(id)} ORDER BY insert_time`, range, ctx.signal),
    ]);
    const sid = stringColumn(col(s, 'stream_id'));
    const created = timeColumnMs(col(s, 'insert_time'));
    const last = timeColumnMs(col(s, 'last_update_time'));
    streams = sid.map((streamId, i) => ({
      id: streamId,
      tags: toStringList(col(s, 'tags')?.get(i)),
      properties: propertiesToObject(col(s, 'properties')?.get(i)),
      created: created[i]!,
      last: last[i]!,
    }));
    if (p.numRows === 0) {
      setChildren(facts, statusBox('empty', 'This process was not active in this time range; widen the range to see it.'));
    } else {
      const get = (c: string) => String(col(p, c)?.get(0) ?? '');
      const start = timeColumnMs(col(p, 'start_time'))[0]!;
      const lastAct = timeColumnMs(col(p, 'last_update_time'))[0]!;
      title.textContent = shortExe(get('exe'));
      title.title = get('exe');
      const fact = (k: string, v: string) => h('div', { class: 'fact' }, h('span', { class: 'fact-k' }, k), h('span', { class: 'fact-v' }, v || '—'));
      // a browser process: its device and browser say more than a computer name and user
      const device = deviceFacts(propertiesToObject(col(p, 'properties')?.get(0)));
      setChildren(facts,
        device.length > 0
          ? device.map(([k, v]) => fact(k, v))
          : [fact('Computer', get('computer')), fact('User', get('username'))],
        fact('Started', formatTime(start)), fact('Last activity', Number.isFinite(lastAct) ? formatTime(lastAct) : '—'),
        device.length > 0 ? null : [fact('CPU', get('cpu_brand')), fact('OS', get('distro'))]);
      facts.dataset.testid = device.length > 0 ? 'device-facts' : 'process-facts';
      if (tab === 'details') renderDetails(content, p, streams);
    }
  } catch (err) {
    if (isAbort(err)) return;
    setChildren(facts, statusBox('error', `Could not load the process: ${describeError(err)}`));
  }

  if (tab === 'logs') setChildren(content, logViewer(ctx, id));
  else if (tab === 'metrics') setChildren(content, metricsPanel(ctx, id));
  else if (tab === 'async') setChildren(content, asyncPanel(ctx, id));
  else if (tab === 'timeline' || tab === 'frames') {
    const threads: ThreadStream[] = streams.filter((s) => s.tags.includes('cpu')).map((s, i) => ({
      streamId: s.id, name: s.properties.thread_name || s.properties['thread-name'] || `thread ${i + 1}`,
    }));
    setChildren(content, tab === 'frames' ? framesPanel(ctx, id, threads) : timelinePanel(ctx, threads));
  } else if (!content.hasChildNodes()) setChildren(content, statusBox('empty', 'No details for this process in this time range.'));
}

function toStringList(x: unknown): string[] {
  if (x === null || x === undefined) return [];
  if (typeof x === 'string') {
    try {
      const j = JSON.parse(x) as unknown;
      return Array.isArray(j) ? j.map(String) : [x];
    } catch {
      return [x];
    }
  }
  const arr = typeof x === 'object' && 'toArray' in x ? Array.from((x as { toArray(): ArrayLike<unknown> }).toArray()) : x;
  return Array.isArray(arr) ? arr.map(String) : [String(arr)];
}

function renderDetails(content: HTMLElement, p: import('apache-arrow').Table, streams: StreamInfo[]) {
  const props = propertiesToObject(col(p, 'properties')?.get(0));
  const kv = (o: Record<string, string>) => Object.keys(o).length === 0
    ? h('p', { class: 'muted' }, 'none')
    : h('dl', { class: 'kv' }, Object.entries(o).sort(([a], [b]) => a.localeCompare(b)).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
  const fields = ['process_id', 'exe', 'username', 'realname', 'computer', 'distro', 'cpu_brand', 'tsc_frequency', 'parent_process_id'];
  const info: Record<string, string> = {};
  for (const f of fields) info[f] = String(col(p, f)?.get(0) ?? '');
  setChildren(content,
    h('section', { class: 'panel' }, h('h2', {}, 'Process'), kv(info), h('h2', {}, 'Properties'), kv(props)),
    h('section', { class: 'panel' }, h('h2', {}, `Streams (${streams.length})`),
      h('div', { class: 'table-wrap' }, h('table', { class: 'data-table', 'data-testid': 'stream-table' },
        h('thead', {}, h('tr', {}, ['Stream', 'Tags', 'Properties', 'Created', 'Last update'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, streams.map((s) => h('tr', {},
          h('td', { class: 'mono' }, s.id), h('td', {}, s.tags.join(', ')),
          h('td', {}, Object.entries(s.properties).map(([k, v]) => `${k}=${v}`).join(' ')),
          h('td', {}, formatTime(s.created)), h('td', {}, Number.isFinite(s.last) ? formatTime(s.last) : '—'))))))));
}
