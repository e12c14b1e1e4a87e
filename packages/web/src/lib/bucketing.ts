/**
 * How a chart asks for as many points as it has pixels: pick a "nice" bucket width from the visible range
 * and the plot width, aggregate in SQL (min / avg / max / p99 per bucket), then lay every series on one
 * shared time axis with gaps as nulls so lines break where there was no data instead of bridging it.
 *
 * ```ts
 * const b = chooseBucket(3_600_000, 1200); // { ms: 5000, sql: "INTERVAL '5 seconds'" }
 * ```
 */

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

/** bucket widths a human reads easily, ascending */
export const NICE_BUCKETS_MS: readonly number[] = [
  1, 2, 5, 10, 20, 50, 100, 250, 500,
  S, 2 * S, 5 * S, 10 * S, 15 * S, 30 * S,
  M, 2 * M, 5 * M, 10 * M, 15 * M, 30 * M,
  H, 2 * H, 3 * H, 6 * H, 12 * H,
  D, 7 * D,
];

export interface Bucket {
  ms: number;
  /** a DuckDB interval literal for `time_bucket` / `date_bin` */
  sql: string;
}

/** The smallest nice bucket that leaves at least `minPx` pixels per bucket across `widthPx`. */
export function chooseBucket(rangeMs: number, widthPx: number, minPx = 3, floorMs = 1): Bucket {
  const target = Math.max(floorMs, rangeMs / Math.max(1, Math.floor(widthPx / minPx)));
  const ms = NICE_BUCKETS_MS.find((b) => b >= target) ?? Math.ceil(target / D) * D;
  return { ms, sql: intervalSql(ms) };
}

export function intervalSql(ms: number): string {
  const units: [number, string][] = [
    [D, 'days'],
    [H, 'hours'],
    [M, 'minutes'],
    [S, 'seconds'],
  ];
  for (const [u, name] of units) if (ms % u === 0) return `INTERVAL '${ms / u} ${name}'`;
  return `INTERVAL '${ms} milliseconds'`;
}

/** One series as SQL returned it: bucket start times (epoch ms, ascending) and its aggregate columns. */
export interface BucketedSeries {
  name: string;
  t: ArrayLike<number>;
  /** one array per aggregate, e.g. { min, avg, max, p99 } */
  values: Record<string, ArrayLike<number | null>>;
}

export interface AlignedData {
  /** shared x axis in seconds (uPlot's unit) */
  x: Float64Array;
  /** per series, per aggregate: values aligned on x, null where the series had no bucket */
  series: { name: string; values: Record<string, (number | null)[]> }[];
}

/**
 * Puts series bucketed on the same grid onto one x axis: every bucket start from `begin` to `end` by
 * `bucketMs`, so gaps show as breaks and every chart's x axis lines up with its neighbours.
 */
export function alignBuckets(series: BucketedSeries[], begin: number, end: number, bucketMs: number): AlignedData {
  const first = Math.floor(begin / bucketMs) * bucketMs;
  const n = Math.max(0, Math.ceil((end - first) / bucketMs));
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = (first + i * bucketMs) / 1000;
  const out = series.map((s) => {
    const values: Record<string, (number | null)[]> = {};
    for (const k of Object.keys(s.values)) values[k] = new Array<number | null>(n).fill(null);
    for (let j = 0; j < s.t.length; j++) {
      const i = Math.round((s.t[j]! - first) / bucketMs);
      if (i < 0 || i >= n) continue;
      for (const k of Object.keys(s.values)) values[k]![i] = s.values[k]![j] ?? null;
    }
    return { name: s.name, values };
  });
  return { x, series: out };
}

export interface ClientBuckets {
  t: Float64Array;
  min: Float64Array;
  avg: Float64Array;
  max: Float64Array;
  p99: Float64Array;
  count: Uint32Array;
}

/**
 * The same aggregates computed in the browser, for results that arrive as raw points (a notebook cell's
 * time series). Points need not be sorted; empty buckets are dropped. p99 is the nearest-rank percentile.
 */
export function bucketize(times: ArrayLike<number>, values: ArrayLike<number>, bucketMs: number): ClientBuckets {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < times.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    const b = Math.floor(times[i]! / bucketMs) * bucketMs;
    let g = groups.get(b);
    if (!g) groups.set(b, (g = []));
    g.push(v);
  }
  const keys = [...groups.keys()].sort((a, b) => a - b);
  const n = keys.length;
  const r: ClientBuckets = {
    t: new Float64Array(n),
    min: new Float64Array(n),
    avg: new Float64Array(n),
    max: new Float64Array(n),
    p99: new Float64Array(n),
    count: new Uint32Array(n),
  };
  keys.forEach((k, i) => {
    const g = groups.get(k)!.sort((a, b) => a - b);
    let sum = 0;
    for (const v of g) sum += v;
    r.t[i] = k;
    r.min[i] = g[0]!;
    r.max[i] = g[g.length - 1]!;
    r.avg[i] = sum / g.length;
    r.p99[i] = g[Math.max(0, Math.ceil(0.99 * g.length) - 1)]!;
    r.count[i] = g.length;
  });
  return r;
}
