/**
 * The server's wall clock in nanoseconds since the Unix epoch, as the bigint the SQL `insert_time` columns
 * hold. Millisecond resolution: `Date.now()` follows the system clock, which matters more here than
 * sub-millisecond precision from the monotonic clock (which drifts from wall time on long runs).
 *
 * @example
 *   await sql.query('INSERT INTO … (insert_time) VALUES ($1)', [nowNs()]);
 */
export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}
