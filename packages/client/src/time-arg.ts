/**
 * Query time bounds as people type them: an ISO-8601 instant, `now`, or a duration back from now such as
 * `15m`, `1h`, `2d` (also `now-1h`). Parsed to nanoseconds since the Unix epoch so that the server, the
 * CLI and the browser agree on one meaning. ISO strings keep sub-millisecond digits (up to nanoseconds).
 *
 * @example
 *   parseTimeArg('1h', now)                    // now - 3600 s, in ns
 *   parseTimeArg('2024-05-01T12:00:00.000000123Z') // 1714564800000000123n
 */

/** Thrown for a time bound that is neither ISO-8601, `now`, nor a relative duration. */
export class TimeArgError extends Error {
  override readonly name = 'TimeArgError';
}

const UNIT_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  min: 60_000_000_000n,
  h: 3_600_000_000_000n,
  d: 86_400_000_000_000n,
  w: 604_800_000_000_000n,
};

const RELATIVE = /^(?:now\s*-\s*)?(\d+(?:\.\d+)?)\s*(ns|us|ms|s|min|m|h|d|w)$/i;
const ISO = /^(\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?)(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/i;

/** `value` as ns since the epoch; `now` (ms since the epoch, default `Date.now()`) anchors relative forms. */
export function parseTimeArg(value: Date | string | bigint, now: number = Date.now()): bigint {
  if (typeof value === 'bigint') return value;
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw new TimeArgError('invalid Date');
    return BigInt(ms) * 1_000_000n;
  }
  const text = value.trim();
  const nowNs = BigInt(Math.trunc(now)) * 1_000_000n;
  if (text.toLowerCase() === 'now') return nowNs;
  const rel = RELATIVE.exec(text);
  if (rel) {
    const unit = UNIT_NS[rel[2]!.toLowerCase()]!;
    const [whole, frac = ''] = rel[1]!.split('.');
    const scale = 10n ** BigInt(frac.length);
    return nowNs - (BigInt(whole!) * scale + BigInt(frac || '0')) * unit / scale;
  }
  const iso = ISO.exec(text);
  if (iso) {
    const base = `${iso[1]!.replace(' ', 'T')}${iso[3] ?? 'Z'}`;
    const ms = Date.parse(iso[1]!.length === 10 ? `${iso[1]}T00:00:00${iso[3] ?? 'Z'}` : base);
    if (!Number.isNaN(ms)) {
      const frac = (iso[2] ?? '').padEnd(9, '0');
      return BigInt(ms) * 1_000_000n + BigInt(frac);
    }
  }
  throw new TimeArgError(`cannot read time "${value}": want an ISO-8601 instant (2024-05-01T12:00:00Z), "now", or a duration back from now such as 15m, 1h, 7d`);
}

/** ns since the epoch as an ISO-8601 string with nanoseconds, e.g. `2024-05-01T12:00:00.000000123Z`. */
export function formatNs(ns: bigint): string {
  const ms = ns / 1_000_000n - (ns % 1_000_000n < 0n ? 1n : 0n);
  const sub = ns - ms * 1_000_000n; // 0 … 999_999
  const iso = new Date(Number(ms)).toISOString(); // …ss.mmmZ
  return `${iso.slice(0, -1)}${sub.toString().padStart(6, '0')}Z`;
}
