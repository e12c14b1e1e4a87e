/**
 * `view_instance('async_events', process_id)`: the async span begin/end events of every stream of a
 * process, merged into one time-ordered list. Async spans hop between threads, so their tree is built
 * from the `parent_span_id` links across all streams of the process, not from event order.
 *
 * Conventions:
 * - Rows are sorted by time; events at the same time keep stream order (as given), then event order.
 * - `depth` counts the ancestors reachable through `parent_span_id` links among the spans present in the
 *   data: 0 for a span whose parent is 0, itself, or absent from the data (it began before the data).
 *   A cycle in the links (corrupt data) stops the count where it would revisit a span.
 * - A span's links (`parent_span_id` on every row of the span) come from its begin event; a span whose
 *   begin is absent takes them from its first end. Name, target, filename and line are each event's own.
 * - Blocks of a stream are sorted by `begin_ticks` and a block_id given twice is read once.
 */
import type { ColumnSpec, RowBatch } from './row-batch.js';
import { CallSiteTable } from './span-hash.js';
import { nsPerTick, orderBlocks, type DecodedBlock, type SpanProcess } from './span-blocks.js';

export const ASYNC_EVENTS_COLUMNS: readonly ColumnSpec[] = [
  { name: 'stream_id', type: 'VARCHAR' },
  { name: 'block_id', type: 'VARCHAR' },
  { name: 'time', type: 'TIMESTAMP_NS' },
  { name: 'event_type', type: 'VARCHAR' },
  { name: 'span_id', type: 'BIGINT' },
  { name: 'parent_span_id', type: 'BIGINT' },
  { name: 'depth', type: 'UINTEGER' },
  { name: 'hash', type: 'UBIGINT' },
  { name: 'name', type: 'VARCHAR' },
  { name: 'filename', type: 'VARCHAR' },
  { name: 'target', type: 'VARCHAR' },
  { name: 'line', type: 'UINTEGER' },
];

export interface AsyncStreamBlocks {
  stream_id: string;
  blocks: readonly DecodedBlock[];
}

/**
 * The async events of a process, sorted by time.
 *
 * @example
 * const rows = asyncEventsRows([{ stream_id, blocks: decoded }], process);
 */
export function asyncEventsRows(streams: readonly AsyncStreamBlocks[], process: SpanProcess): RowBatch {
  const factor = nsPerTick(process);
  const ordered = streams.map((s) => ({ stream_id: s.stream_id, blocks: orderBlocks(s.blocks) }));

  let base: bigint | null = null;
  let n = 0;
  const blockIds: string[] = [];
  const blockStream: string[] = [];
  for (const s of ordered) {
    for (const b of s.blocks) {
      if (base === null || b.meta.begin_time < base) base = b.meta.begin_time;
      blockIds.push(b.meta.block_id);
      blockStream.push(s.stream_id);
      for (const ev of b.events) if (ev.kind === 'begin_async_span' || ev.kind === 'end_async_span') n++;
    }
  }
  const origin = base ?? 0n;

  // Per event: its block, time, call site, begin/end and its span as a dense index; per span: its links.
  // Dense indices turn the per-row work into array reads and allocate each span's bigints once.
  const blockOf = new Uint32Array(n);
  const times = new Float64Array(n);
  const siteOf = new Int32Array(n);
  const isBegin = new Uint8Array(n);
  const spanOf = new Int32Array(n);
  const table = new CallSiteTable();
  const denseOf = new Map<number, number>();
  const spanIds: number[] = [];
  const parentIds: number[] = [];
  const hasBegin: number[] = [];
  let i = 0;
  let blockIndex = 0;
  for (const s of ordered) {
    for (const b of s.blocks) {
      const off = Number(b.meta.begin_time - origin);
      for (const ev of b.events) {
        if (ev.kind !== 'begin_async_span' && ev.kind !== 'end_async_span') continue;
        const begin = ev.kind === 'begin_async_span';
        let d = denseOf.get(ev.span_id);
        if (d === undefined) {
          d = spanIds.length;
          denseOf.set(ev.span_id, d);
          spanIds.push(ev.span_id);
          parentIds.push(ev.parent_span_id);
          hasBegin.push(begin ? 1 : 0);
        } else if (begin && hasBegin[d] === 0) {
          parentIds[d] = ev.parent_span_id;
          hasBegin[d] = 1;
        }
        blockOf[i] = blockIndex;
        times[i] = off + Math.round(ev.ticks * factor);
        siteOf[i] = table.intern(ev.name, ev.target, ev.filename, ev.line);
        isBegin[i] = begin ? 1 : 0;
        spanOf[i] = d;
        i++;
      }
      blockIndex++;
    }
  }

  const depthOf = spanDepths(spanIds, parentIds, hasBegin, denseOf);
  const spanBig: bigint[] = [];
  const parentBig: bigint[] = [];
  for (let d = 0; d < spanIds.length; d++) {
    spanBig.push(BigInt(spanIds[d]!));
    parentBig.push(BigInt(parentIds[d]!));
  }

  const order = timeOrder(times);
  const sites = table.sites;
  // Filled by appending: `new Array(n)` for large n makes V8 use slow dictionary elements.
  const streamCol: string[] = [];
  const blockCol: string[] = [];
  const time: bigint[] = [];
  const eventType: string[] = [];
  const spanId: bigint[] = [];
  const parentSpanId: bigint[] = [];
  const depth: number[] = [];
  const hash: bigint[] = [];
  const name: string[] = [];
  const filename: string[] = [];
  const target: string[] = [];
  const line: number[] = [];
  for (let r = 0; r < n; r++) {
    const k = order[r]!;
    const d = spanOf[k]!;
    const site = sites[siteOf[k]!]!;
    const bi = blockOf[k]!;
    streamCol.push(blockStream[bi]!);
    blockCol.push(blockIds[bi]!);
    time.push(origin + BigInt(times[k]!));
    eventType.push(isBegin[k] === 1 ? 'begin' : 'end');
    spanId.push(spanBig[d]!);
    parentSpanId.push(parentBig[d]!);
    depth.push(depthOf[d]!);
    hash.push(site.hash);
    name.push(site.name);
    filename.push(site.filename);
    target.push(site.target);
    line.push(site.line);
  }
  return {
    columns: ASYNC_EVENTS_COLUMNS,
    values: [streamCol, blockCol, time, eventType, spanId, parentSpanId, depth, hash, name, filename, target, line],
    length: n,
  };
}

/** Indices of `times` in ascending time order, ties by index; no sort at all when already ordered. */
function timeOrder(times: Float64Array): Uint32Array {
  const n = times.length;
  const order = new Uint32Array(n);
  let sorted = true;
  for (let i = 0; i < n; i++) {
    order[i] = i;
    if (i > 0 && times[i]! < times[i - 1]!) sorted = false;
  }
  if (!sorted) order.sort((a, b) => times[a]! - times[b]! || a - b);
  return order;
}

/**
 * Depth of every span through known parent links (a parent is known when its begin is in the data);
 * see the module comment for the rules. Iterative, so a chain of any length cannot overflow the stack.
 */
function spanDepths(spanIds: number[], parentIds: number[], hasBegin: number[], denseOf: Map<number, number>): Int32Array {
  const count = spanIds.length;
  const depth = new Int32Array(count).fill(-1);
  const parentOf = new Int32Array(count);
  for (let d = 0; d < count; d++) {
    const p = parentIds[d]!;
    const pd = p === 0 || p === spanIds[d] ? undefined : denseOf.get(p);
    parentOf[d] = pd !== undefined && hasBegin[pd] === 1 ? pd : -1;
  }
  const chain: number[] = [];
  const onChain = new Uint8Array(count);
  for (let d = 0; d < count; d++) {
    if (depth[d] !== -1) continue;
    // walk up to a root, a span with a known depth, or a span already on this walk (a cycle)
    let cur = d;
    let baseDepth = -1;
    while (cur !== -1 && depth[cur] === -1 && onChain[cur] === 0) {
      chain.push(cur);
      onChain[cur] = 1;
      cur = parentOf[cur]!;
    }
    if (cur !== -1 && depth[cur] !== -1) baseDepth = depth[cur]!;
    for (let j = chain.length - 1, v = baseDepth + 1; j >= 0; j--, v++) {
      depth[chain[j]!] = v;
      onChain[chain[j]!] = 0;
    }
    chain.length = 0;
  }
  return depth;
}
