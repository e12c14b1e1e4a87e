/**
 * The page's clock: `performance.now()` (ms since the document's time origin). Chromium coarsens it to 100 µs
 * without cross-origin isolation and to 5 µs with it; records keep the raw reading either way.
 */
const perf = performance;

export function clock(): number {
  return perf.now();
}

/** this realm's time origin, ms since the epoch (a worker's differs from its page's) */
export function timeOrigin(): number {
  return perf.timeOrigin;
}

/** `ms` (epoch milliseconds) as epoch nanoseconds, without losing precision to 2^53 */
export function epochMsToNs(ms: number): bigint {
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
}
