/**
 * The one time range every view shares, kept in the URL (`?from=now-1h&to=now`) so every view is a link.
 * A bound is `now`, `now-<n><unit>` (s, m, h, d, w) or an absolute ISO 8601 time / epoch milliseconds.
 * Relative ranges are resolved against the clock at query time, which is what makes live views move.
 *
 * ```ts
 * const spec = rangeFromParams(new URLSearchParams('from=now-5m&to=now'));
 * resolveRange(spec, Date.now()); // { begin: now - 300_000, end: now }
 * ```
 */

export interface RangeSpec {
  from: string;
  to: string;
}

/** epoch milliseconds, begin < end */
export interface ResolvedRange {
  begin: number;
  end: number;
}

export class TimeRangeError extends Error {
  override readonly name = 'TimeRangeError';
}

export const PRESETS: readonly { label: string; from: string }[] = [
  { label: 'Last 5 minutes', from: 'now-5m' },
  { label: 'Last 15 minutes', from: 'now-15m' },
  { label: 'Last hour', from: 'now-1h' },
  { label: 'Last 24 hours', from: 'now-24h' },
  { label: 'Last 7 days', from: 'now-7d' },
];

export const DEFAULT_RANGE: RangeSpec = { from: 'now-1h', to: 'now' };

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Milliseconds since the epoch for one bound. Throws TimeRangeError with the offending text. */
export function parseTimeExpr(expr: string, nowMs: number): number {
  const e = expr.trim();
  if (e === 'now') return nowMs;
  const rel = /^now-(\d+(?:\.\d+)?)([smhdw])$/.exec(e);
  if (rel) return nowMs - Number(rel[1]) * UNIT_MS[rel[2]!]!;
  if (/^\d{10,16}$/.test(e)) return Number(e);
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(e)) {
    const t = Date.parse(e.replace(' ', 'T'));
    if (Number.isFinite(t)) return t;
  }
  throw new TimeRangeError(`cannot read time "${expr}": use now, now-5m, now-1h, now-7d or an ISO time`);
}

export function isValidTimeExpr(expr: string): boolean {
  try {
    parseTimeExpr(expr, 0);
    return true;
  } catch {
    return false;
  }
}

export function resolveRange(spec: RangeSpec, nowMs: number): ResolvedRange {
  const begin = parseTimeExpr(spec.from, nowMs);
  const end = parseTimeExpr(spec.to, nowMs);
  if (!(begin < end)) throw new TimeRangeError(`the range must start before it ends (${spec.from} → ${spec.to})`);
  return { begin, end };
}

/** A relative range ending now: views over it refresh themselves. */
export function isLive(spec: RangeSpec): boolean {
  return spec.to.trim() === 'now' && spec.from.trim().startsWith('now');
}

/** Reads `from`/`to` from a query string, falling back to the default when absent or invalid. */
export function rangeFromParams(params: URLSearchParams): RangeSpec {
  const from = params.get('from');
  const to = params.get('to') ?? 'now';
  if (!from) return { ...DEFAULT_RANGE };
  try {
    resolveRange({ from, to }, Date.now());
    return { from, to };
  } catch {
    return { ...DEFAULT_RANGE };
  }
}

export function writeRangeParams(params: URLSearchParams, spec: RangeSpec): void {
  params.set('from', spec.from);
  params.set('to', spec.to);
}

/** An absolute range in the URL's compact form (ISO with milliseconds). */
export function absoluteRange(begin: number, end: number): RangeSpec {
  return { from: new Date(begin).toISOString(), to: new Date(end).toISOString() };
}

/** What the picker's button says: the preset label, or the two ends. */
export function describeRange(spec: RangeSpec): string {
  if (spec.to === 'now') {
    const preset = PRESETS.find((p) => p.from === spec.from);
    if (preset) return preset.label;
    const rel = /^now-(\d+(?:\.\d+)?)([smhdw])$/.exec(spec.from);
    if (rel) return `Last ${rel[1]}${rel[2]}`;
  }
  try {
    const { begin, end } = resolveRange(spec, Date.now());
    return `${formatTime(begin)} → ${formatTime(end)}`;
  } catch {
    return `${spec.from} → ${spec.to}`;
  }
}

/** Local time, `YYYY-MM-DD HH:MM:SS`, dropping the date when it is today. */
export function formatTime(ms: number, withMillis = false): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const date = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
  const time = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}${withMillis ? '.' + p(d.getMilliseconds(), 3) : ''}`;
  const today = new Date();
  const sameDay = d.getFullYear() === today.getFullYear() && d.getMonth() === today.getMonth() && d.getDate() === today.getDate();
  return sameDay ? time : `${date} ${time}`;
}

/** Value for an `<input type="datetime-local">` (local time, minutes precision). */
export function toLocalInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

/** Reads an `<input type="datetime-local">` value back into epoch ms. */
export function fromLocalInput(value: string): number {
  const t = new Date(value).getTime();
  if (!Number.isFinite(t)) throw new TimeRangeError(`cannot read time "${value}"`);
  return t;
}

/** A short duration: `850 ns`, `1.2 µs`, `3.4 ms`, `2.5 s`, `3 m 20 s`. */
export function formatDuration(ns: number): string {
  const a = Math.abs(ns);
  if (a < 1e3) return `${Math.round(ns)} ns`;
  if (a < 1e6) return `${(ns / 1e3).toPrecision(3)} µs`;
  if (a < 1e9) return `${(ns / 1e6).toPrecision(3)} ms`;
  if (a < 60e9) return `${(ns / 1e9).toPrecision(3)} s`;
  const s = Math.round(ns / 1e9);
  if (s < 3600) return s % 60 === 0 ? `${s / 60} min` : `${Math.floor(s / 60)} m ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} m`;
}
