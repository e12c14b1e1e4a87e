/**
 * One trace's spans in waterfall order: each span under its parent (depth-first, siblings by start), roots
 * first by start. A span whose parent is not among the spans (not sent, or outside the time range) is shown
 * as a root, and a cycle of parents (malformed ids) cannot loop: every span appears exactly once.
 *
 * ```ts
 * const rows = waterfall(spans); // [{ span, depth }, …]
 * ```
 */
export interface TraceSpan {
  spanId: string;
  parentSpanId: string;
  /** ms since the epoch (fractional) */
  begin: number;
  end: number;
}

export interface WaterfallRow<S extends TraceSpan> {
  span: S;
  depth: number;
}

export function waterfall<S extends TraceSpan>(spans: readonly S[]): WaterfallRow<S>[] {
  const byStart = [...spans].sort((a, b) => a.begin - b.begin || a.end - b.end || (a.spanId < b.spanId ? -1 : 1));
  const ids = new Set(byStart.map((s) => s.spanId));
  const children = new Map<string, S[]>();
  const roots: S[] = [];
  for (const s of byStart) {
    if (s.parentSpanId && s.parentSpanId !== s.spanId && ids.has(s.parentSpanId)) {
      const list = children.get(s.parentSpanId);
      if (list) list.push(s);
      else children.set(s.parentSpanId, [s]);
    } else roots.push(s);
  }
  const out: WaterfallRow<S>[] = [];
  const seen = new Set<S>();
  const visit = (s: S, depth: number) => {
    // iterative would do too; traces are shallow, and `seen` stops cycles
    if (seen.has(s)) return;
    seen.add(s);
    out.push({ span: s, depth });
    for (const c of children.get(s.spanId) ?? []) visit(c, depth + 1);
  };
  for (const r of roots) visit(r, 0);
  // spans only reachable through a cycle: shown as roots
  for (const s of byStart) if (!seen.has(s)) visit(s, 0);
  return out;
}

/** A stable color per service: the same service has the same color on every trace. */
export function serviceColor(service: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < service.length; i++) h = Math.imul(h ^ service.charCodeAt(i), 0x01000193) >>> 0;
  return `hsl(${h % 360} 62% 52%)`;
}
