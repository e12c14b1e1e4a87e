/**
 * OpenTelemetry traces from the `otel_spans` view. `/traces`: open a trace by id, or pick one of the range's
 * latest traces (services, span count, errors). `/traces/<trace_id>`: the trace as a waterfall across every
 * service that took part (bars by begin and end, indented under their parent, colored by service); a click on
 * a span shows its details: ids, kind, status, attributes, events, links and its process.
 */
import { h, setChildren, statusBox } from '../lib/dom.js';
import { query, describeError, isAbort } from '../app/api.js';
import { navigate, linkTo } from '../app/router.js';
import { resolved, type PageContext } from '../app/page.js';
import { col, numberColumn, propertiesToObject, stringColumn, timeColumnMs } from '../lib/arrow-columns.js';
import { dataTable } from '../components/data-table.js';
import { formatDuration, formatTime } from '../lib/time-range.js';
import { lit } from '../lib/sql.js';
import { serviceColor, waterfall, type TraceSpan } from '../lib/trace-layout.js';

const TRACE_ID = /^[0-9a-f]{32}$/;

export function recentTracesSql(limit = 100): string {
  return `SELECT trace_id, min(begin) AS begin, epoch_ns(max("end")) - epoch_ns(min(begin)) AS duration, count(*) AS spans,
  string_agg(DISTINCT service_name, ', ' ORDER BY service_name) AS services, arg_min(name, begin) AS root,
  count(*) FILTER (WHERE status_code = 'error') AS errors
FROM otel_spans WHERE trace_id <> '' GROUP BY trace_id ORDER BY begin DESC LIMIT ${limit}`;
}

export function traceSpansSql(traceId: string): string {
  return `SELECT span_id, parent_span_id, name, kind, status_code, status_message, service_name, process_id, target,
  begin, "end", duration, attributes, events, links
FROM otel_spans WHERE trace_id = ${lit(traceId)} ORDER BY begin LIMIT 20000`;
}

function searchBox(initial = ''): HTMLElement {
  const input = h('input', { type: 'search', placeholder: 'Trace id (32 hex digits)', 'aria-label': 'Trace id', value: initial, class: 'mono trace-search', 'data-testid': 'trace-search' });
  const error = h('span', { class: 'tp-error', 'aria-live': 'polite' });
  const form = h('form', { class: 'toolbar', role: 'search' }, input, h('button', { type: 'submit', class: 'primary' }, 'Open trace'), error);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const id = input.value.trim().toLowerCase();
    if (!TRACE_ID.test(id)) {
      error.textContent = 'A trace id is 32 hexadecimal digits.';
      return;
    }
    navigate(`/traces/${id}`);
  });
  return form;
}

interface TraceRow {
  id: string;
  begin: number;
  duration: number;
  spans: number;
  services: string;
  root: string;
  errors: number;
}

export async function tracesPage(root: HTMLElement, ctx: PageContext): Promise<void> {
  const body = h('div', {}, statusBox('loading', 'Loading traces…'));
  setChildren(root, h('div', { class: 'page-head' }, h('h1', {}, 'Traces')), searchBox(), h('section', { class: 'panel', 'aria-label': 'Latest traces' }, body));
  const table = dataTable<TraceRow>({
    testId: 'traces-table',
    caption: 'Latest traces',
    rowKey: (r) => r.id,
    sort: { key: 'begin', desc: true },
    columns: [
      { key: 'root', label: 'Trace', cell: (r) => h('a', { href: linkTo(`/traces/${r.id}`), class: 'exe-link' }, r.root || r.id), sort: (r) => r.root },
      { key: 'services', label: 'Services', cell: (r) => r.services, sort: (r) => r.services },
      { key: 'begin', label: 'Started', cell: (r) => formatTime(r.begin, true), sort: (r) => r.begin },
      { key: 'duration', label: 'Duration', cell: (r) => formatDuration(r.duration), sort: (r) => r.duration, align: 'right' },
      { key: 'spans', label: 'Spans', cell: (r) => r.spans.toLocaleString(), sort: (r) => r.spans, align: 'right' },
      { key: 'errors', label: 'Errors', cell: (r) => (r.errors ? h('span', { class: 'badge badge-error' }, String(r.errors)) : ''), sort: (r) => r.errors, align: 'right' },
      { key: 'id', label: 'Trace id', cell: (r) => h('span', { class: 'mono' }, r.id), secondary: true },
    ],
  });
  try {
    const t = await query(recentTracesSql(), resolved(ctx), ctx.signal);
    if (t.numRows === 0) {
      setChildren(body, statusBox('empty', 'No OpenTelemetry traces in this time range. Point an OTLP exporter at this server (docs/opentelemetry.md).'));
      return;
    }
    const ids = stringColumn(col(t, 'trace_id'));
    const begin = timeColumnMs(col(t, 'begin'));
    const [duration, spans, errors] = ['duration', 'spans', 'errors'].map((c) => numberColumn(col(t, c)));
    const services = stringColumn(col(t, 'services'));
    const roots = stringColumn(col(t, 'root'));
    table.setRows(ids.map((id, i) => ({ id, begin: begin[i]!, duration: duration![i]!, spans: spans![i]!, services: services[i]!, root: roots[i]!, errors: errors![i]! })));
    setChildren(body, table.el);
  } catch (err) {
    if (!isAbort(err)) setChildren(body, statusBox('error', `Could not load traces: ${describeError(err)}`));
  }
}

interface Span extends TraceSpan {
  name: string;
  kind: string;
  status: string;
  statusMessage: string;
  service: string;
  processId: string;
  target: string;
  /** ns */
  duration: number;
  attributes: Record<string, string>;
  events: { time: string; name: string; attributes: Record<string, string> }[];
  links: { trace_id: string; span_id: string; attributes: Record<string, string> }[];
}

function parseJsonList<T>(s: string): T[] {
  try {
    const v = JSON.parse(s) as unknown;
    return Array.isArray(v) ? (v as T[]) : [];
  } catch {
    return [];
  }
}

export async function tracePage(root: HTMLElement, ctx: PageContext): Promise<void> {
  const traceId = (ctx.route.id ?? '').toLowerCase();
  const body = h('div', {}, statusBox('loading', 'Loading trace…'));
  setChildren(root,
    h('div', { class: 'crumbs' }, h('a', { href: linkTo('/traces') }, 'Traces'), ' / ', h('span', { class: 'mono' }, traceId)),
    h('div', { class: 'page-head' }, h('h1', { 'data-testid': 'trace-title' }, 'Trace')),
    body);
  if (!TRACE_ID.test(traceId)) {
    setChildren(body, statusBox('error', 'A trace id is 32 hexadecimal digits.'), searchBox(traceId));
    return;
  }
  let spans: Span[];
  try {
    const t = await query(traceSpansSql(traceId), resolved(ctx), ctx.signal);
    const s = (c: string) => stringColumn(col(t, c));
    const [ids, parents, names, kinds, statuses, messages, services, processes, targets, events, links] =
      ['span_id', 'parent_span_id', 'name', 'kind', 'status_code', 'status_message', 'service_name', 'process_id', 'target', 'events', 'links'].map(s);
    const begin = timeColumnMs(col(t, 'begin'));
    const end = timeColumnMs(col(t, 'end'));
    const duration = numberColumn(col(t, 'duration'));
    const attrs = col(t, 'attributes');
    spans = ids!.map((id, i) => ({
      spanId: id, parentSpanId: parents![i]!, begin: begin[i]!, end: end[i]!, name: names![i]!, kind: kinds![i]!, status: statuses![i]!,
      statusMessage: messages![i]!, service: services![i]!, processId: processes![i]!, target: targets![i]!, duration: duration[i]!,
      attributes: propertiesToObject(attrs?.get(i)), events: parseJsonList(events![i]!), links: parseJsonList(links![i]!),
    }));
  } catch (err) {
    if (!isAbort(err)) setChildren(body, statusBox('error', `Could not load the trace: ${describeError(err)}`));
    return;
  }
  if (spans.length === 0) {
    setChildren(body, statusBox('empty', 'No spans of this trace in this time range: widen the range or check the id.'), searchBox(traceId));
    return;
  }
  const rows = waterfall(spans);
  const t0 = Math.min(...spans.map((s) => s.begin));
  const total = Math.max(...spans.map((s) => s.end)) - t0 || 1;
  const serviceNames = [...new Set(spans.map((s) => s.service))].sort();
  const errors = spans.filter((s) => s.status === 'error').length;
  const rootSpan = rows[0]!.span;
  root.querySelector('[data-testid="trace-title"]')!.textContent = rootSpan.name || 'Trace';
  document.title = `Sirius — Trace ${rootSpan.name}`;

  const details = h('section', { class: 'panel trace-details', 'aria-label': 'Span details', 'data-testid': 'span-details' }, h('p', { class: 'muted' }, 'Select a span to see its details.'));
  const rowEls: HTMLElement[] = [];
  const select = (i: number) => {
    rowEls.forEach((el, k) => el.setAttribute('aria-pressed', String(k === i)));
    setChildren(details, spanDetails(rows[i]!.span, t0));
  };
  const list = h('div', { class: 'waterfall', role: 'list', 'data-testid': 'waterfall' },
    rows.map(({ span, depth }, i) => {
      const left = ((span.begin - t0) / total) * 100;
      const width = Math.max(((span.end - span.begin) / total) * 100, 0.2);
      const el = h('button', {
        type: 'button', class: `wf-row${span.status === 'error' ? ' wf-error' : ''}`, role: 'listitem', 'aria-pressed': 'false',
        'data-span-id': span.spanId, 'data-depth': String(depth), 'data-service': span.service, onclick: () => select(i),
      },
      h('span', { class: 'wf-label', style: { paddingLeft: `${depth * 14}px` } },
        h('span', { class: 'wf-swatch', style: { background: serviceColor(span.service) }, 'aria-hidden': 'true' }),
        h('span', { class: 'wf-service' }, span.service), ' ', h('span', { class: 'wf-name' }, span.name)),
      h('span', { class: 'wf-track' },
        h('span', { class: 'wf-bar', style: { left: `${left}%`, width: `${width}%`, background: serviceColor(span.service) } }),
        h('span', { class: 'wf-dur', style: { left: `${Math.min(left + width, 88)}%` } }, formatDuration(span.duration))));
      rowEls.push(el);
      return el;
    }));
  setChildren(body,
    h('div', { class: 'facts' },
      fact('Trace id', h('span', { class: 'mono', 'data-testid': 'trace-id' }, traceId)),
      fact('Started', formatTime(t0, true)),
      fact('Duration', formatDuration(total * 1e6)),
      fact('Spans', String(spans.length)),
      fact('Services', h('span', { 'data-testid': 'trace-services' }, serviceNames.join(', '))),
      errors ? fact('Errors', h('span', { class: 'badge badge-error' }, String(errors))) : null),
    h('div', { class: 'wf-legend' }, serviceNames.map((s) => h('span', { class: 'wf-legend-item' }, h('span', { class: 'wf-swatch', style: { background: serviceColor(s) } }), s))),
    h('section', { class: 'panel', 'aria-label': 'Waterfall' }, list),
    details);
}

function fact(k: string, v: Node | string): HTMLElement {
  return h('div', { class: 'fact' }, h('span', { class: 'fact-k' }, k), h('span', { class: 'fact-v' }, v));
}

function kv(entries: [string, Node | string][]): HTMLElement {
  return h('dl', { class: 'kv' }, entries.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function spanDetails(s: Span, t0: number): HTMLElement[] {
  const attrs = Object.entries(s.attributes).sort(([a], [b]) => (a < b ? -1 : 1));
  return [
    h('h2', { class: 'sub' }, s.name),
    kv([
      ['Service', h('a', { href: linkTo(`/process/${encodeURIComponent(s.processId)}`) }, s.service)],
      ['Scope', s.target],
      ['Kind', s.kind],
      ['Status', s.statusMessage ? `${s.status}: ${s.statusMessage}` : s.status],
      ['Span id', h('span', { class: 'mono' }, s.spanId)],
      ['Parent span id', h('span', { class: 'mono' }, s.parentSpanId || '(root)')],
      ['Starts at', `+${formatDuration((s.begin - t0) * 1e6)}`],
      ['Duration', formatDuration(s.duration)],
    ]),
    h('h3', { class: 'sub' }, 'Attributes'),
    attrs.length ? kv(attrs) : h('p', { class: 'muted' }, 'None'),
    s.events.length ? h('h3', { class: 'sub' }, 'Events') : null,
    s.events.length ? kv(s.events.map((e) => [`+${formatDuration(Number(BigInt(e.time) - BigInt(Math.round(t0 * 1e6))))}`, `${e.name} ${JSON.stringify(e.attributes)}`])) : null,
    s.links.length ? h('h3', { class: 'sub' }, 'Links') : null,
    s.links.length ? kv(s.links.map((l) => [l.span_id, h('a', { href: linkTo(`/traces/${l.trace_id}`), class: 'mono' }, l.trace_id)])) : null,
  ].filter((x): x is HTMLElement => x !== null);
}
