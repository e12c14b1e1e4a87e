/**
 * SQL functions Sirius adds to DuckDB, as macros so that they run inside DuckDB's vectorized engine
 * (no per-row hop into JavaScript). Defined once per engine; documented with examples in docs/sql.md.
 *
 * Histograms are a plain STRUCT so they can be stored, merged and shipped as Arrow:
 *   { start DOUBLE, end DOUBLE, min DOUBLE, max DOUBLE, sum DOUBLE, sum_sq DOUBLE, count BIGINT, bins BIGINT[] }
 * `bins[i]` counts values in [start + (i-1)·w, start + i·w) with w = (end - start) / len(bins); values outside
 * [start, end) are clamped into the first or last bin (and still count in min/max/sum).
 */

export const SQL_FUNCTIONS: readonly string[] = [
  // property_get(properties, key): the value for key in a MAP(VARCHAR, VARCHAR), NULL when absent
  `CREATE OR REPLACE MACRO property_get(properties, key) AS map_extract_value(properties, key)`,

  // date_bin(stride, time[, origin]): start of the stride-wide bin holding `time`, bins aligned on `origin`
  // (default the Unix epoch). stride: an INTERVAL or text such as '1 minute'. Returns TIMESTAMP_NS.
  `CREATE OR REPLACE MACRO __sirius_bin_ns(stride_ns, t_ns, origin_ns) AS
     make_timestamp_ns(origin_ns + (t_ns - origin_ns) - ((((t_ns - origin_ns) % stride_ns) + stride_ns) % stride_ns))`,
  `CREATE OR REPLACE MACRO date_bin(stride, t) AS
     __sirius_bin_ns(epoch_ns(TIMESTAMP_NS '1970-01-01' + CAST(stride AS INTERVAL)), epoch_ns(t), 0::BIGINT),
   (stride, t, origin) AS
     __sirius_bin_ns(epoch_ns(TIMESTAMP_NS '1970-01-01' + CAST(stride AS INTERVAL)), epoch_ns(t), epoch_ns(origin))`,

  // make_histogram(start, end, nb_bins, value): aggregate building a histogram of `value`
  `CREATE OR REPLACE MACRO __sirius_bin_index(start_v, end_v, nb_bins, v) AS
     least(greatest(floor((v::DOUBLE - start_v) / ((end_v - start_v)::DOUBLE / nb_bins)), 0), nb_bins - 1)::BIGINT`,
  `CREATE OR REPLACE MACRO make_histogram(start_v, end_v, nb_bins, v) AS {
     'start': any_value(start_v)::DOUBLE,
     'end': any_value(end_v)::DOUBLE,
     'min': min(v)::DOUBLE,
     'max': max(v)::DOUBLE,
     'sum': coalesce(sum(v::DOUBLE), 0),
     'sum_sq': coalesce(sum(v::DOUBLE * v::DOUBLE), 0),
     'count': count(v)::BIGINT,
     'bins': coalesce(
        map_values(histogram(__sirius_bin_index(start_v, end_v, nb_bins, v), range(nb_bins::BIGINT)))::BIGINT[],
        list_transform(range(nb_bins::BIGINT), i -> 0::BIGINT))
   }`,

  // sum_histograms(h): aggregate merging histograms with the same start, end and number of bins
  `CREATE OR REPLACE MACRO sum_histograms(h) AS {
     'start': min(h.start),
     'end': max(h."end"),
     'min': min(h.min),
     'max': max(h.max),
     'sum': coalesce(sum(h.sum), 0),
     'sum_sq': coalesce(sum(h.sum_sq), 0),
     'count': coalesce(sum(h.count), 0)::BIGINT,
     'bins': list_reduce(list(h.bins), (a, b) -> list_transform(range(1, len(a) + 1), i -> a[i] + b[i]))
   }`,

  // count_from_histogram(h): number of values in the histogram
  `CREATE OR REPLACE MACRO count_from_histogram(h) AS h.count`,

  // quantile_from_histogram(h, q): estimated q-quantile (0 ≤ q ≤ 1), interpolated linearly inside the bin
  `CREATE OR REPLACE MACRO __sirius_hist_cum(bins) AS list_transform(range(1, len(bins) + 1), i -> list_sum(bins[1:i]))`,
  `CREATE OR REPLACE MACRO __sirius_hist_quantile(h, target, cum) AS (
     WITH k AS (SELECT coalesce(list_filter(range(1, len(h.bins) + 1), i -> cum[i] >= target)[1], len(h.bins)) AS idx)
     SELECT CASE WHEN h.count = 0 THEN NULL ELSE
       greatest(h.min, least(h.max,
         h.start + (idx - 1) * ((h."end" - h.start) / len(h.bins))
         + ((h."end" - h.start) / len(h.bins)) * CASE WHEN h.bins[idx] = 0 THEN 0
             ELSE (target - (cum[idx] - h.bins[idx])) / h.bins[idx] END))
     END FROM k)`,
  `CREATE OR REPLACE MACRO quantile_from_histogram(h, q) AS
     __sirius_hist_quantile(h, greatest(least(q::DOUBLE, 1), 0) * h.count, __sirius_hist_cum(h.bins))`,
];
