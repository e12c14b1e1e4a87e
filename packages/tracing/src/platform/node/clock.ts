/**
 * The Node clock: `performance.now()` (milliseconds since this thread's time origin, sub-microsecond
 * precision). Records keep the raw reading; the sender turns it into ticks (ns since the process's origin).
 */
import { performance } from 'node:perf_hooks';

const perf = performance;

export function clock(): number {
  return perf.now();
}

/** this thread's time origin, ms since the epoch */
export function timeOrigin(): number {
  return perf.timeOrigin;
}

/** `ms` (a time-origin-based instant, epoch milliseconds) as epoch nanoseconds, without losing precision to 2^53 */
export function epochMsToNs(ms: number): bigint {
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
}
