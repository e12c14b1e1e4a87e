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
  // no subquery here: a correlated subquery cannot take an aggregate as its argument, so
  // quantile_from_histogram(make_histogram(…), q) and quantile_from_histogram(sum_histograms(h), q) must stay expressions
  `CREATE OR REPLACE MACRO __sirius_hist_width(h) AS (h."end" - h.start) / len(h.bins)`,
  `CREATE OR REPLACE MACRO __sirius_hist_first_at_least(cum, target) AS
     coalesce(list_position(list_transform(cum, c -> c >= target), true), len(cum))`,
  `CREATE OR REPLACE MACRO __sirius_hist_quantile_at(h, target, cum, idx) AS
     CASE WHEN h.count = 0 THEN NULL ELSE
       greatest(h.min, least(h.max,
         h.start + (idx - 1) * __sirius_hist_width(h)
         + __sirius_hist_width(h) * CASE WHEN h.bins[idx] = 0 THEN 0 ELSE (target - (cum[idx] - h.bins[idx])) / h.bins[idx] END))
     END`,
  `CREATE OR REPLACE MACRO __sirius_hist_quantile(h, target, cum) AS
     __sirius_hist_quantile_at(h, target, cum, __sirius_hist_first_at_least(cum, target))`,
  `CREATE OR REPLACE MACRO quantile_from_histogram(h, q) AS
     __sirius_hist_quantile(h, greatest(least(q::DOUBLE, 1), 0) * h.count, __sirius_hist_cum(h.bins))`,

  // sum_from_histogram(h): sum of the values; variance_from_histogram(h): their sample variance (n - 1 in the
  // denominator, from count, sum and sum of squares; NULL under two values)
  `CREATE OR REPLACE MACRO sum_from_histogram(h) AS h.sum`,
  `CREATE OR REPLACE MACRO variance_from_histogram(h) AS
     CASE WHEN h.count > 1 THEN (h.sum_sq / h.count - (h.sum / h.count) * (h.sum / h.count)) * (h.count / (h.count - 1.0)) END`,
  // expand_histogram(h): table of (bin_center, count), one row per bin; h is a value or a scalar subquery
  `CREATE OR REPLACE MACRO expand_histogram(h) AS TABLE
     SELECT struct_extract(h, 'start') + (i - 0.5) * ((struct_extract(h, 'end') - struct_extract(h, 'start')) / len(struct_extract(h, 'bins'))) AS bin_center,
            struct_extract(h, 'bins')[i] AS count
     FROM range(1, len(struct_extract(h, 'bins')) + 1) r(i)`,

  // Properties. Sirius keeps them as MAP(VARCHAR, VARCHAR), already compact, so properties_to_dict is the
  // identity; the others convert: an array of {key, value} structs, a JSON object, the number of entries.
  `CREATE OR REPLACE MACRO properties_to_dict(properties) AS properties`,
  `CREATE OR REPLACE MACRO properties_to_array(properties) AS map_entries(properties)`,
  `CREATE OR REPLACE MACRO properties_to_jsonb(properties) AS to_json(properties)`,
  `CREATE OR REPLACE MACRO properties_length(properties) AS coalesce(len(map_keys(properties)), 0)`,

  // JSON values ("jsonb" in the seed system's names) are DuckDB JSON; each function also takes JSON text.
  // Accessors give NULL when the value is not of the kind asked for, as the seed system's do.
  `CREATE OR REPLACE MACRO jsonb_parse(text) AS json(text)`,
  `CREATE OR REPLACE MACRO jsonb_format_json(j) AS CAST(CAST(j AS JSON) AS VARCHAR)`,
  `CREATE OR REPLACE MACRO jsonb_get(j, key) AS
     CASE WHEN json_type(CAST(j AS JSON)) = 'OBJECT' THEN json_extract(CAST(j AS JSON), '$."' || replace(key, '"', '\"') || '"') END`,
  `CREATE OR REPLACE MACRO jsonb_as_string(j) AS
     CASE WHEN json_type(CAST(j AS JSON)) = 'VARCHAR' THEN json_extract_string(CAST(j AS JSON), '$') END`,
  `CREATE OR REPLACE MACRO jsonb_as_f64(j) AS
     CASE WHEN json_type(CAST(j AS JSON)) IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN TRY_CAST(CAST(j AS JSON) AS DOUBLE) END`,
  `CREATE OR REPLACE MACRO jsonb_as_i64(j) AS
     CASE WHEN json_type(CAST(j AS JSON)) IN ('BIGINT', 'UBIGINT') THEN TRY_CAST(CAST(j AS JSON) AS BIGINT) END`,
  `CREATE OR REPLACE MACRO jsonb_object_keys(j) AS
     CASE WHEN json_type(CAST(j AS JSON)) = 'OBJECT' THEN json_keys(CAST(j AS JSON)) END`,
  `CREATE OR REPLACE MACRO jsonb_array_length(j) AS
     CASE WHEN json_type(CAST(j AS JSON)) = 'ARRAY' THEN json_array_length(CAST(j AS JSON)) END`,
  // every match of a JSONPath as one JSON array (a path with * yields a list in DuckDB, one without a value)
  `CREATE OR REPLACE MACRO jsonb_path_query(j, path) AS
     CASE WHEN contains(path, '*') THEN to_json(json_extract(CAST(j AS JSON), path))
          WHEN json_extract(CAST(j AS JSON), path) IS NULL THEN CAST('[]' AS JSON)
          ELSE json_array(json_extract(CAST(j AS JSON), path)) END`,
  `CREATE OR REPLACE MACRO jsonb_path_query_first(j, path) AS json_extract(jsonb_path_query(j, path), '$[0]')`,
];
