/**
 * Overlap look-ups that stay fast however long the lake's history is. A B-tree on (begin, end) can bound only
 * one side of "begin < $end AND end >= $begin": a range far from the edge of history then walks every row on
 * the other side (a week of partitions for an hour last week). A GiST index over the closed interval of each
 * row answers the overlap in time logarithmic in the table plus the rows returned.
 *
 * The index expression and the query expression must be written the same way for PostgreSQL to match them, so
 * both come from here. `least`/`greatest` keep a row whose bounds are swapped from failing the range
 * constructor; the plain comparisons stay in every query, so the answer is exactly what they select (the GiST
 * condition only ever admits a superset of it).
 */

/**
 * Closed ranges are stored as [low, high + 1): a bound at int64's maximum (times are validated only as int64)
 * would overflow. Both bounds are capped one below it; capping is monotone, so every true overlap still
 * overlaps once capped and the index still admits a superset.
 */
const CAP = '9223372036854775806::bigint';

/** the indexed interval of a row with bounds `low` and `high` (closed) */
export function rowIntervalSql(low: string, high: string): string {
  return `int8range(least(${low}, ${high}, ${CAP}), least(greatest(${low}, ${high}), ${CAP}), '[]')`;
}

/**
 * Rows overlapping [begin, end): `low < end AND high >= begin`, plus the index condition. `begin`/`end` are
 * SQL expressions for bigint parameters (e.g. `$1`), each evaluated as bigint.
 */
export function overlapSql(low: string, high: string, begin: string, end: string): string {
  const b = `${begin}::bigint`;
  const e = `${end}::bigint`;
  return `${rowIntervalSql(low, high)} && ${rowIntervalSql(b, e)} AND ${low} < ${e} AND ${high} >= ${b}`;
}
