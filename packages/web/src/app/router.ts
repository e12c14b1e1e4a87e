/**
 * URL-driven navigation: the path picks the page, the query string holds the page's state (time range,
 * filters, tab), so every view is a link. Pages call `navigate` to move and `patchParams` to record state
 * that they already show (no re-render).
 */
export interface Route {
  page: 'processes' | 'process' | 'overview' | 'notebooks' | 'notebook' | 'traces' | 'trace' | 'not-found';
  id?: string;
  params: URLSearchParams;
}

export function parseRoute(pathname: string, search: string): Route {
  const params = new URLSearchParams(search);
  const parts = pathname.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  if (parts.length === 0 || (parts[0] === 'processes' && parts.length === 1)) return { page: 'processes', params };
  if (parts[0] === 'process' && parts.length === 2) return { page: 'process', id: parts[1], params };
  if (parts[0] === 'overview' && parts.length === 1) return { page: 'overview', params };
  if (parts[0] === 'notebooks' && parts.length === 1) return { page: 'notebooks', params };
  if (parts[0] === 'notebooks' && parts.length === 2) return { page: 'notebook', id: parts[1], params };
  if (parts[0] === 'traces' && parts.length === 1) return { page: 'traces', params };
  if (parts[0] === 'traces' && parts.length === 2) return { page: 'trace', id: parts[1], params };
  return { page: 'not-found', params };
}

type Listener = () => void;
const listeners = new Set<Listener>();

export function onNavigate(l: Listener): void {
  listeners.add(l);
}

function emit() {
  for (const l of listeners) l();
}

addEventListener('popstate', emit);

/** Goes to a URL (path + query); keeps the current time range unless the URL names one. */
export function navigate(url: string, opts: { replace?: boolean } = {}): void {
  const target = new URL(url, location.origin);
  const current = new URLSearchParams(location.search);
  for (const k of ['from', 'to']) if (!target.searchParams.has(k) && current.has(k)) target.searchParams.set(k, current.get(k)!);
  const next = target.pathname + target.search;
  if (next === location.pathname + location.search) return;
  if (opts.replace) history.replaceState(null, '', next);
  else history.pushState(null, '', next);
  emit();
}

/** Records state in the URL without re-rendering (the page already shows it). */
export function patchParams(patch: Record<string, string | null>): void {
  const p = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || v === '') p.delete(k);
    else p.set(k, v);
  }
  const qs = p.toString();
  history.replaceState(null, '', location.pathname + (qs ? `?${qs}` : ''));
}

/** Same path, new parameters, re-rendered (a new time range, a new tab). */
export function setParams(patch: Record<string, string | null>): void {
  const p = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || v === '') p.delete(k);
    else p.set(k, v);
  }
  const qs = p.toString();
  history.pushState(null, '', location.pathname + (qs ? `?${qs}` : ''));
  emit();
}

/** An href that keeps the current time range. */
export function linkTo(path: string, extra: Record<string, string> = {}): string {
  const cur = new URLSearchParams(location.search);
  const p = new URLSearchParams(extra);
  for (const k of ['from', 'to']) if (cur.has(k) && !p.has(k)) p.set(k, cur.get(k)!);
  const qs = p.toString();
  return path + (qs ? `?${qs}` : '');
}

/** Makes plain `<a href="/…">` clicks navigate inside the app. */
export function interceptLinks(root: HTMLElement): void {
  root.addEventListener('click', (e) => {
    const a = (e.target as Element).closest?.('a');
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const href = a.getAttribute('href');
    if (!href || !href.startsWith('/') || a.target || a.hasAttribute('download')) return;
    e.preventDefault();
    navigate(href);
  });
}
