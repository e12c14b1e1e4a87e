/**
 * Layout for the thread timeline and the flame graph, computed once per query so that drawing a frame only
 * walks what is on screen. Spans are grouped into one lane per depth, sorted by begin, with a running
 * maximum of ends so the first visible span of a lane is found by binary search. Spans narrower than a
 * pixel are merged into one rect per pixel (and whole runs of them skipped by binary search), so a frame
 * costs about lanes × pixels, not the number of spans.
 *
 * ```ts
 * const layout = layoutLanes(spans);
 * const n = visibleRects(layout, spans, { begin: 0, end: 1e6 }, 1200, rects);
 * ```
 */

/** Spans as columns; times are nanoseconds relative to an origin the caller keeps. */
export interface SpanColumns {
  count: number;
  begin: Float64Array;
  end: Float64Array;
  depth: Uint16Array;
  /** index into `names` */
  name: Int32Array;
  names: string[];
}

export interface Lane {
  /** span indices in this lane, by begin */
  idx: Int32Array;
  /** begins of those spans, for binary search */
  begins: Float64Array;
  /** running maximum of ends, for binary search of the first span still visible */
  maxEnd: Float64Array;
}

export interface LaneLayout {
  lanes: Lane[];
  /** earliest begin and latest end over all spans */
  begin: number;
  end: number;
}

export function layoutLanes(s: SpanColumns): LaneLayout {
  let maxDepth = -1;
  for (let i = 0; i < s.count; i++) if (s.depth[i]! > maxDepth) maxDepth = s.depth[i]!;
  const sizes = new Int32Array(maxDepth + 1);
  for (let i = 0; i < s.count; i++) sizes[s.depth[i]!]!++;
  const idxs = Array.from(sizes, (n) => new Int32Array(n));
  const fill = new Int32Array(maxDepth + 1);
  for (let i = 0; i < s.count; i++) {
    const d = s.depth[i]!;
    idxs[d]![fill[d]!++] = i;
  }
  let begin = Infinity;
  let end = -Infinity;
  const lanes = idxs.map((idx) => {
    let sorted = true;
    for (let k = 1; k < idx.length; k++) if (s.begin[idx[k]!]! < s.begin[idx[k - 1]!]!) sorted = false;
    if (!sorted) idx.sort((a, b) => s.begin[a]! - s.begin[b]!);
    const begins = new Float64Array(idx.length);
    const maxEnd = new Float64Array(idx.length);
    let m = -Infinity;
    for (let k = 0; k < idx.length; k++) {
      const i = idx[k]!;
      begins[k] = s.begin[i]!;
      m = Math.max(m, s.end[i]!);
      maxEnd[k] = m;
      if (s.begin[i]! < begin) begin = s.begin[i]!;
    }
    if (m > end) end = m;
    return { idx, begins, maxEnd };
  });
  return { lanes, begin: Number.isFinite(begin) ? begin : 0, end: Number.isFinite(end) ? end : 0 };
}

/**
 * Rects to draw, in a reusable buffer that grows as needed. `span` is the span index for a single span;
 * for a merged run of sub-pixel spans it is `-(name + 2)` when every span of the run has the same name
 * (drawn in that name's colour) and -1 when names are mixed (drawn neutral).
 */
export class RectBuffer {
  count = 0;
  x = new Float32Array(1024);
  w = new Float32Array(1024);
  depth = new Uint16Array(1024);
  span = new Int32Array(1024);

  push(x: number, w: number, depth: number, span: number): void {
    if (this.count === this.x.length) this.grow();
    const k = this.count++;
    this.x[k] = x;
    this.w[k] = w;
    this.depth[k] = depth;
    this.span[k] = span;
  }

  private grow(): void {
    const n = this.x.length * 2;
    const copy = <T extends Float32Array | Uint16Array | Int32Array>(a: T, b: T) => (b.set(a), b);
    this.x = copy(this.x, new Float32Array(n));
    this.w = copy(this.w, new Float32Array(n));
    this.depth = copy(this.depth, new Uint16Array(n));
    this.span = copy(this.span, new Int32Array(n));
  }
}

/** first k with arr[k] >= v (arr ascending) */
export function lowerBound(arr: Float64Array, v: number, lo = 0, hi = arr.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** first k with arr[k] > v (arr ascending) */
export function upperBound(arr: Float64Array, v: number): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Fills `out` with the rects visible in [view.begin, view.end) mapped onto `widthPx` pixels; returns the
 * rect count. Wide spans get their own rect; runs of sub-pixel spans become one rect at least 1 px wide.
 */
export function visibleRects(
  layout: LaneLayout,
  s: SpanColumns,
  view: { begin: number; end: number },
  widthPx: number,
  out: RectBuffer,
  firstDepth = 0,
  lastDepth = Infinity,
): number {
  out.count = 0;
  const pxPerNs = widthPx / (view.end - view.begin);
  if (!(pxPerNs > 0) || !Number.isFinite(pxPerNs)) return 0;
  const lastLane = Math.min(layout.lanes.length - 1, lastDepth);
  for (let d = Math.max(0, firstDepth); d <= lastLane; d++) {
    const lane = layout.lanes[d]!;
    const n = lane.idx.length;
    let k = lowerBound(lane.maxEnd, view.begin);
    let px0 = 0;
    let px1 = -1; // pending rect [px0, px1); none while px1 < px0
    let pendingSpan = -1;
    while (k < n) {
      const i = lane.idx[k]!;
      const b = s.begin[i]!;
      if (b >= view.end) break;
      const e = s.end[i]!;
      if (e <= view.begin) {
        k++;
        continue;
      }
      const x0 = Math.max(0, (b - view.begin) * pxPerNs);
      const x1 = Math.min(widthPx, (e - view.begin) * pxPerNs);
      const narrow = x1 - x0 < 1;
      if (narrow && px1 >= px0 && x0 < px1 + 0.5) {
        // joins the pending run: the run becomes a merged rect, coloured by name while names agree
        if (x1 > px1) px1 = x1;
        pendingSpan = mergeKey(pendingSpan, s.name[i]!, s);
      } else {
        if (px1 >= px0) out.push(px0, Math.max(1, px1 - px0), d, pendingSpan);
        px0 = x0;
        px1 = x1;
        pendingSpan = i;
      }
      if (narrow) {
        // skip every span that starts inside this pixel except the last one, which may be wide
        const boundary = view.begin + (Math.floor(x0) + 1) / pxPerNs;
        const next = lowerBound(lane.begins, boundary, k + 1) - 1;
        if (next > k) {
          const j = lane.idx[next - 1]!;
          const xe = Math.min(widthPx, (s.end[j]! - view.begin) * pxPerNs);
          if (xe > px1) px1 = xe;
          // the skipped spans are summarized by the last one's name (checking each would cost what we skip)
          if (next - 1 > k) pendingSpan = mergeKey(pendingSpan, s.name[j]!, s);
          k = next;
          continue;
        }
      }
      k++;
    }
    if (px1 >= px0) out.push(px0, Math.max(1, px1 - px0), d, pendingSpan);
  }
  return out.count;
}

/** the merged-run key after adding a span named `name` to a run keyed `key` */
function mergeKey(key: number, name: number, s: SpanColumns): number {
  const runName = key >= 0 ? s.name[key]! : key <= -2 ? -key - 2 : -1;
  return runName === name ? -(name + 2) : -1;
}

/** The span under a point, or -1: binary search in the lane of that depth. */
export function spanAt(layout: LaneLayout, s: SpanColumns, depth: number, t: number, slackNs = 0): number {
  const lane = layout.lanes[depth];
  if (!lane) return -1;
  const k = upperBound(lane.begins, t + slackNs) - 1;
  for (let j = k; j >= 0 && j > k - 4; j--) {
    const i = lane.idx[j]!;
    if (s.begin[i]! - slackNs <= t && t < s.end[i]! + slackNs) return i;
  }
  return -1;
}

/**
 * Aggregates spans by call path into a flame graph: each node is (parent node, name) and is as wide as the
 * total time spent in it. Children are ordered by name, so the same workload always draws the same picture.
 * The result is in `SpanColumns` form (x in ns of total time) so the timeline's renderer draws it too.
 * Parents are found by nesting: sorted by begin, a span's parent is the latest span one level up.
 */
export function buildFlameGraph(s: SpanColumns): SpanColumns & { calls: Uint32Array } {
  const order = new Int32Array(s.count);
  for (let i = 0; i < s.count; i++) order[i] = i;
  order.sort((a, b) => s.begin[a]! - s.begin[b]! || s.depth[a]! - s.depth[b]!);
  const parentOf: number[] = [];
  const nameOf: number[] = [];
  const depthOf: number[] = [];
  const total: number[] = [];
  const calls: number[] = [];
  const children = new Map<number, Map<number, number>>(); // parent node (-1 root) → name → node
  const stack: number[] = []; // node per depth for the current nesting
  for (let k = 0; k < s.count; k++) {
    const i = order[k]!;
    const d = s.depth[i]!;
    const parent = d === 0 ? -1 : (stack[d - 1] ?? -1);
    let kids = children.get(parent);
    if (!kids) children.set(parent, (kids = new Map()));
    let node = kids.get(s.name[i]!);
    if (node === undefined) {
      node = parentOf.length;
      kids.set(s.name[i]!, node);
      parentOf.push(parent);
      nameOf.push(s.name[i]!);
      depthOf.push(parent === -1 ? 0 : depthOf[parent]! + 1);
      total.push(0);
      calls.push(0);
    }
    total[node]! += s.end[i]! - s.begin[i]!;
    calls[node]!++;
    stack[d] = node;
    stack.length = d + 1;
  }
  const n = parentOf.length;
  const out = {
    count: n,
    begin: new Float64Array(n),
    end: new Float64Array(n),
    depth: new Uint16Array(n),
    name: new Int32Array(n),
    names: s.names,
    calls: new Uint32Array(n),
  };
  // lay children left to right inside their parent, by name; emit in DFS order so lanes come out sorted
  let w = 0;
  const place = (parent: number, x: number) => {
    const kids = children.get(parent);
    if (!kids) return;
    const sorted = [...kids.values()].sort((a, b) => {
      const na = s.names[nameOf[a]!]!;
      const nb = s.names[nameOf[b]!]!;
      return na < nb ? -1 : na > nb ? 1 : 0;
    });
    let cursor = x;
    for (const node of sorted) {
      out.begin[w] = cursor;
      out.end[w] = cursor + total[node]!;
      out.depth[w] = depthOf[node]!;
      out.name[w] = nameOf[node]!;
      out.calls[w] = calls[node]!;
      w++;
      place(node, cursor);
      cursor += total[node]!;
    }
  };
  place(-1, 0);
  return out;
}
