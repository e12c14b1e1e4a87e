/**
 * What a browser process says about its device, from the properties the browser SDK sets (browser,
 * browser_version, os, cores, device_memory, screen, dpr, gpu_renderer, page_origin, page_path, session_id),
 * and the processes list's search over properties (`browser:chrome os:android`, or free text).
 *
 * ```ts
 * deviceFacts({ browser: 'Chrome', browser_version: '131.0', os: 'Android 14' }); // [['Browser', 'Chrome 131.0'], ['OS', 'Android 14']]
 * ```
 */

export function isBrowserProcess(props: Record<string, string>): boolean {
  return props.runtime === 'browser' || props.browser !== undefined;
}

/** Labelled facts for the process page's header; empty for a process that is not a browser. */
export function deviceFacts(props: Record<string, string>): [string, string][] {
  if (!isBrowserProcess(props)) return [];
  const out: [string, string][] = [];
  const add = (k: string, v: string | undefined) => {
    if (v) out.push([k, v]);
  };
  add('Browser', [props.browser, props.browser_version].filter(Boolean).join(' '));
  add('OS', props.os);
  const mem = props.device_memory ? `${props.device_memory} GB` : '';
  add('Device', [props.cores ? `${props.cores} cores` : '', mem].filter(Boolean).join(' · '));
  add('Screen', [props.screen, props.dpr ? `@${props.dpr}x` : ''].filter(Boolean).join(' '));
  add('GPU', props.gpu_renderer);
  add('Page', props.page_origin || props.page_path ? `${props.page_origin ?? ''}${props.page_path ?? ''}` : '');
  add('Session', props.session_id);
  return out;
}

/** One line for a table cell: `Chrome 131 · Android 14`; empty for a process that is not a browser. */
export function deviceSummary(props: Record<string, string>): string {
  if (!isBrowserProcess(props)) return '';
  const major = (props.browser_version ?? '').split('.')[0];
  return [[props.browser, major].filter(Boolean).join(' '), props.os].filter(Boolean).join(' · ');
}

export interface SearchTerms {
  /** `key:value` terms: the property `key` must contain `value` (case-insensitive) */
  props: [string, string][];
  /** other words: each must appear in the exe, computer, user, id or any property value */
  words: string[];
}

/** Splits a search box's text into `key:value` property terms and plain words. */
export function parseSearch(q: string): SearchTerms {
  const props: [string, string][] = [];
  const words: string[] = [];
  for (const tok of q.trim().toLowerCase().split(/\s+/).filter(Boolean)) {
    const m = /^([a-z_][a-z0-9_.-]*):(.+)$/.exec(tok);
    if (m) props.push([m[1]!, m[2]!]);
    else words.push(tok);
  }
  return { props, words };
}

/** Whether a process (its searchable fields and properties) matches every term of a search. */
export function matchesTerms(fields: string[], props: Record<string, string>, terms: SearchTerms): boolean {
  const lowerProps = new Map(Object.entries(props).map(([k, v]) => [k.toLowerCase(), v.toLowerCase()]));
  for (const [k, v] of terms.props) if (!(lowerProps.get(k)?.includes(v) ?? false)) return false;
  if (terms.words.length === 0) return true;
  const hay = [...fields.map((f) => f.toLowerCase()), ...lowerProps.values()];
  return terms.words.every((w) => hay.some((s) => s.includes(w)));
}
