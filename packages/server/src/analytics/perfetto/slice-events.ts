/**
 * Turns span rows into ordered slice begin/end events per Perfetto track. Perfetto nests slices on a
 * track by time, so every track must hold a properly nested set of slices: a thread's spans already are;
 * async spans may overlap freely and are spread over as few "lanes" (tracks) as keep each one nested.
 */
import type { RowBatch } from '../../lakehouse/row-batch.js';

/** What a slice shows; interned once per distinct value. */
export interface SliceInfo {
  name: string;
  target: string;
  filename: string;
  line: number;
}

/** One begin or end; `lane` is the index of the track within its group. */
export interface SliceEvent {
  /** ns since the Unix epoch */
  ts: bigint;
  begin: boolean;
  lane: number;
  info: SliceInfo;
}

function column<T>(rows: RowBatch, name: string): T[] {
  const i = rows.columns.findIndex((c) => c.name === name);
  if (i < 0) throw new TypeError(`row batch has no column "${name}"`);
  return rows.values[i] as T[];
}

interface Interval {
  begin: bigint;
  end: bigint;
  depth: number;
  info: SliceInfo;
  /** preferred lane (the parent's), or -1 */
  parent: number;
}

/**
 * Events of one thread's `thread_spans` rows, in track order: a slice's begin, its children, its end.
 * Rows may come in any order and may be a subset of the tree (a time-ranged query).
 */
export function threadSliceEvents(rows: RowBatch): SliceEvent[] {
  const begin = column<bigint>(rows, 'begin');
  const end = column<bigint>(rows, 'end');
  const depth = column<number>(rows, 'depth');
  const name = column<string>(rows, 'name');
  const target = column<string>(rows, 'target');
  const filename = column<string>(rows, 'filename');
  const line = column<number>(rows, 'line');
  const spans: Interval[] = [];
  for (let i = 0; i < rows.length; i++) {
    spans.push({
      begin: begin[i]!,
      end: end[i]!,
      depth: depth[i]!,
      info: { name: name[i]!, target: target[i]!, filename: filename[i]!, line: line[i]! },
      parent: -1,
    });
  }
  return packLanes(spans, false);
}

/**
 * Events of `async_events` rows: begin and end paired by span_id; a span whose end is missing ends at
 * the last time in the rows, an end without a begin is left out. Returns the events and the lane count.
 */
export function asyncSliceEvents(rows: RowBatch): { events: SliceEvent[]; lanes: number } {
  const time = column<bigint>(rows, 'time');
  const type = column<string>(rows, 'event_type');
  const spanId = column<bigint>(rows, 'span_id');
  const parentId = column<bigint>(rows, 'parent_span_id');
  const depth = column<number>(rows, 'depth');
  const name = column<string>(rows, 'name');
  const target = column<string>(rows, 'target');
  const filename = column<string>(rows, 'filename');
  const line = column<number>(rows, 'line');
  const byId = new Map<bigint, Interval & { id: bigint; parentId: bigint; open: boolean }>();
  let last = 0n;
  for (let i = 0; i < rows.length; i++) {
    const t = time[i]!;
    if (t > last) last = t;
    const id = spanId[i]!;
    if (type[i] === 'begin') {
      if (byId.has(id)) continue;
      byId.set(id, {
        id,
        parentId: parentId[i]!,
        begin: t,
        end: t,
        depth: depth[i]!,
        info: { name: name[i]!, target: target[i]!, filename: filename[i]!, line: line[i]! },
        parent: -1,
        open: true,
      });
    } else {
      const s = byId.get(id);
      if (s !== undefined && s.open) {
        s.end = t < s.begin ? s.begin : t;
        s.open = false;
      }
    }
  }
  const spans = [...byId.values()];
  for (const s of spans) if (s.open) s.end = last;
  const index = new Map<bigint, number>();
  spans.forEach((s, i) => index.set(s.id, i));
  for (const s of spans) s.parent = index.get(s.parentId) ?? -1;
  const events = packLanes(spans, true);
  let lanes = 0;
  for (const e of events) if (e.lane >= lanes) lanes = e.lane + 1;
  return { events, lanes };
}

/**
 * Greedy lane assignment: spans by begin (outer first); a span goes to its parent's lane when it nests
 * there, else to the first lane where it nests, else to a new lane. With `multiLane` false everything
 * stays on lane 0 (thread spans, nested by construction).
 */
function packLanes(spans: Interval[], multiLane: boolean): SliceEvent[] {
  const order = spans.map((_, i) => i);
  order.sort((a, b) => {
    const x = spans[a]!;
    const y = spans[b]!;
    if (x.begin !== y.begin) return x.begin < y.begin ? -1 : 1;
    if (x.depth !== y.depth) return x.depth - y.depth;
    if (x.end !== y.end) return x.end > y.end ? -1 : 1;
    return a - b;
  });
  const laneOf = new Int32Array(spans.length).fill(-1);
  const stacks: number[][] = [];
  const perLane: SliceEvent[][] = [];
  const fits = (lane: number, s: Interval): boolean => {
    const stack = stacks[lane]!;
    // pop slices that do not enclose s: they have ended by the time s begins
    for (;;) {
      const top = stack[stack.length - 1];
      if (top === undefined) return true;
      const t = spans[top]!;
      if (t.begin <= s.begin && s.end <= t.end && t.depth < s.depth && (t.end > s.begin || s.end === s.begin)) return true;
      if (t.end > s.begin && multiLane) return false;
      stack.pop();
      perLane[lane]!.push({ ts: t.end, begin: false, lane, info: t.info });
    }
  };
  for (const i of order) {
    const s = spans[i]!;
    let lane = -1;
    if (!multiLane) {
      if (stacks.length === 0) {
        stacks.push([]);
        perLane.push([]);
      }
      fits(0, s);
      lane = 0;
    } else {
      const preferred = s.parent >= 0 ? laneOf[s.parent]! : -1;
      if (preferred >= 0 && fits(preferred, s)) lane = preferred;
      for (let l = 0; lane < 0 && l < stacks.length; l++) if (l !== preferred && fits(l, s)) lane = l;
      if (lane < 0) {
        lane = stacks.length;
        stacks.push([]);
        perLane.push([]);
      }
    }
    laneOf[i] = lane;
    stacks[lane]!.push(i);
    perLane[lane]!.push({ ts: s.begin, begin: true, lane, info: s.info });
  }
  for (let lane = 0; lane < stacks.length; lane++) {
    const stack = stacks[lane]!;
    while (stack.length > 0) {
      const t = spans[stack.pop()!]!;
      perLane[lane]!.push({ ts: t.end, begin: false, lane, info: t.info });
    }
  }
  return perLane.flat();
}
