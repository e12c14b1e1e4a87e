/**
 * Writes a Perfetto trace (a serialized `perfetto.protos.Trace`: a sequence of TracePacket fields, so pieces
 * concatenate) incrementally. Spans and async events are added in time order; `cut(t)` returns the bytes of
 * every event that no later input can precede, so a trace of any length is written piece by piece while
 * memory holds only the open spans and the interning tables.
 *
 * Layout: one process track, one thread track per stream (children of the process), async lanes as further
 * children, described on first use. Every packet is on one sequence; the first clears incremental state and
 * the others need it. Event names, categories (the span target) and source locations are interned on first
 * use; when the tables pass `internLimit` entries the next packet clears the state and interning starts
 * over, so the tables stay bounded too. Events of one piece are sorted by timestamp across tracks (stable,
 * so each track's own order survives ties), and pieces follow each other in time.
 */
import { ProtoWriter } from './proto-writer.js';
import * as F from './perfetto-fields.js';
import { LanePacker, type LaneEvent, type LaneSpan } from './lane-packer.js';
import type { SliceInfo } from './slice-info.js';

export interface PerfettoProcess {
  process_id: string;
  /** executable name, shown as the process name */
  exe: string;
  /** OS process id to show; by default a stable number derived from process_id */
  pid?: number;
}

export interface TraceWriterOptions {
  /** interned entries kept before the incremental state is cleared (default 65 536) */
  internLimit?: number;
}

const SEQUENCE_ID = 1;
const PROCESS_UUID = 1;

interface AsyncSpan extends LaneSpan {
  parentId: bigint;
  /** placed on a lane (else still waiting for a cut) */
  placed: boolean;
}

export class PerfettoTraceWriter {
  private readonly w = new ProtoWriter();
  private readonly pid: number;
  private first = true;
  private clearState = false;
  private readonly threads: LanePacker[];
  private readonly asyncLanes = new LanePacker(true);
  private asyncLanesDescribed = 0;
  /** async spans begun and not yet off their lane (or not yet placed), by span id */
  private readonly live = new Map<bigint, AsyncSpan>();
  private readonly unplaced: AsyncSpan[] = [];
  /** the latest time of any input: where a span whose end never comes ends */
  private lastTime = 0n;
  private readonly interner: Interner;
  private headerDone = false;
  private finished = false;

  constructor(
    private readonly process: PerfettoProcess,
    private readonly threadNames: readonly string[],
    opts: TraceWriterOptions = {},
  ) {
    this.pid = process.pid ?? derivedPid(process.process_id);
    this.threads = threadNames.map(() => new LanePacker(false));
    this.interner = new Interner(opts.internLimit ?? 65_536);
  }

  /** A thread span: per thread in begin order, outer before inner on ties; never before the last cut. */
  threadSpan(thread: number, begin: bigint, end: bigint, depth: number, info: SliceInfo): void {
    const packer = this.threads[thread];
    if (packer === undefined) throw new RangeError(`no thread ${thread}`);
    if (end > this.lastTime) this.lastTime = end;
    if (begin > this.lastTime) this.lastTime = begin;
    packer.place({ begin, end: end < begin ? begin : end, depth, info, preferredLane: -1, lane: -1 });
  }

  /**
   * An `async_events` row, in time order. Begin and end pair by span id; an end without a begin is left out;
   * a span whose end never comes ends at the latest time of the trace's input.
   */
  asyncEvent(time: bigint, type: string, spanId: bigint, parentSpanId: bigint, depth: number, info: SliceInfo): void {
    if (time > this.lastTime) this.lastTime = time;
    if (type === 'begin') {
      if (this.live.has(spanId)) return;
      const s: AsyncSpan = { begin: time, end: undefined, depth, info, preferredLane: -1, lane: -1, parentId: parentSpanId, placed: false };
      this.live.set(spanId, s);
      this.unplaced.push(s);
    } else {
      const s = this.live.get(spanId);
      if (s !== undefined && s.end === undefined) s.end = time < s.begin ? s.begin : time;
    }
  }

  /** spans begun and not yet ended in the output, and async spans waiting for a lane: what memory holds */
  get openSpans(): number {
    let n = this.asyncLanes.open + this.unplaced.length;
    for (const t of this.threads) n += t.open;
    return n;
  }

  /** The bytes of every event before `t`; nothing added later may be earlier than `t`. */
  cut(t: bigint): Uint8Array {
    return this.emit(t);
  }

  /** The rest of the trace: every open span ends (an async span with no end at the trace's latest time). */
  finish(): Uint8Array {
    const out = this.emit(undefined);
    this.finished = true;
    return out;
  }

  private emit(t: bigint | undefined): Uint8Array {
    if (this.finished) throw new Error('PerfettoTraceWriter: finish() was already called');
    this.header();
    // async spans begun before t get their lanes now, with whatever is known of their ends
    let placed = 0;
    for (const s of this.unplaced) {
      if (t !== undefined && s.begin >= t) break;
      const parent = this.live.get(s.parentId);
      s.preferredLane = parent !== undefined && parent.placed ? parent.lane : -1;
      this.asyncLanes.place(s);
      s.placed = true;
      placed++;
    }
    this.unplaced.splice(0, placed);
    for (const p of this.threads) p.flush(t, this.lastTime);
    this.asyncLanes.flush(t, this.lastTime);
    // spans off their lanes no longer need to be found by id (an end or a child may still refer to open ones)
    for (const [id, s] of this.live) if (s.placed && s.end !== undefined && (t === undefined || s.end < t)) this.live.delete(id);
    if (t === undefined) this.live.clear();

    const tracks: { uuid: number; events: LaneEvent[] }[] = [];
    this.threads.forEach((p, i) => {
      const [events] = p.take();
      if (events !== undefined) tracks.push({ uuid: PROCESS_UUID + 1 + i, events });
    });
    const firstAsync = PROCESS_UUID + 1 + this.threads.length;
    for (; this.asyncLanesDescribed < this.asyncLanes.lanes; this.asyncLanesDescribed++) {
      const lane = this.asyncLanesDescribed;
      this.packetHeader();
      this.w.begin(F.TracePacket.track_descriptor);
      this.w.uint(F.TrackDescriptor.uuid, firstAsync + lane).uint(F.TrackDescriptor.parent_uuid, PROCESS_UUID);
      this.w.string(F.TrackDescriptor.name, lane === 0 ? 'async' : `async ${lane + 1}`);
      this.w.end().end();
    }
    this.asyncLanes.take().forEach((events, lane) => tracks.push({ uuid: firstAsync + lane, events }));

    const all: { uuid: number; ev: LaneEvent }[] = [];
    for (const tr of tracks) for (const ev of tr.events) all.push({ uuid: tr.uuid, ev });
    all.sort((a, b) => (a.ev.ts < b.ev.ts ? -1 : a.ev.ts > b.ev.ts ? 1 : 0));
    for (const { uuid, ev } of all) this.event(uuid, ev);
    return this.w.take();
  }

  private packetHeader(): void {
    const w = this.w;
    w.begin(F.Trace.packet);
    w.uint(F.TracePacket.trusted_packet_sequence_id, SEQUENCE_ID);
    const cleared = this.first || this.clearState;
    w.uint(F.TracePacket.sequence_flags, cleared ? F.SequenceFlags.SEQ_INCREMENTAL_STATE_CLEARED : F.SequenceFlags.SEQ_NEEDS_INCREMENTAL_STATE);
    this.first = false;
    this.clearState = false;
  }

  private header(): void {
    if (this.headerDone) return;
    this.headerDone = true;
    const w = this.w;
    const exe = this.process.exe;
    this.packetHeader();
    w.begin(F.TracePacket.track_descriptor);
    w.uint(F.TrackDescriptor.uuid, PROCESS_UUID);
    w.string(F.TrackDescriptor.name, exe);
    w.begin(F.TrackDescriptor.process).uint(F.ProcessDescriptor.pid, this.pid).string(F.ProcessDescriptor.process_name, exe).end();
    w.end().end();
    this.threadNames.forEach((name, i) => {
      this.packetHeader();
      w.begin(F.TracePacket.track_descriptor);
      w.uint(F.TrackDescriptor.uuid, PROCESS_UUID + 1 + i).uint(F.TrackDescriptor.parent_uuid, PROCESS_UUID);
      w.string(F.TrackDescriptor.name, name);
      w.begin(F.TrackDescriptor.thread);
      w.uint(F.ThreadDescriptor.pid, this.pid).uint(F.ThreadDescriptor.tid, this.pid + 1 + i).string(F.ThreadDescriptor.thread_name, name);
      w.end().end().end();
    });
  }

  private event(uuid: number, ev: LaneEvent): void {
    const w = this.w;
    if (ev.begin && this.interner.full) {
      this.interner.clear();
      this.clearState = true;
    }
    this.packetHeader();
    w.uint64(F.TracePacket.timestamp, ev.ts);
    if (ev.begin) {
      const ids = this.interner.ids(ev.info);
      if (ids.fresh) writeInterned(w, ev.info, ids);
      w.begin(F.TracePacket.track_event);
      w.uint(F.TrackEvent.type, F.TrackEventType.TYPE_SLICE_BEGIN).uint(F.TrackEvent.track_uuid, uuid);
      w.uint(F.TrackEvent.name_iid, ids.name).uint(F.TrackEvent.category_iids, ids.category);
      w.uint(F.TrackEvent.source_location_iid, ids.location);
      w.end();
    } else {
      w.begin(F.TracePacket.track_event);
      w.uint(F.TrackEvent.type, F.TrackEventType.TYPE_SLICE_END).uint(F.TrackEvent.track_uuid, uuid);
      w.end();
    }
    w.end();
  }
}

interface InternIds {
  name: number;
  category: number;
  location: number;
  /** which of the three are new in this packet: bit 1 name, 2 category, 4 location */
  fresh: number;
}

/** Interning ids of the sequence's current incremental state; 0 is invalid in Perfetto, so ids start at 1. */
class Interner {
  private names = new Map<string, number>();
  private categories = new Map<string, number>();
  private locations = new Map<string, number>();

  constructor(private readonly limit: number) {}

  get full(): boolean {
    return this.names.size + this.categories.size + this.locations.size >= this.limit;
  }

  clear(): void {
    this.names = new Map();
    this.categories = new Map();
    this.locations = new Map();
  }

  ids(info: SliceInfo): InternIds {
    let fresh = 0;
    const get = (map: Map<string, number>, key: string, bit: number): number => {
      let id = map.get(key);
      if (id === undefined) {
        id = map.size + 1;
        map.set(key, id);
        fresh |= bit;
      }
      return id;
    };
    const name = get(this.names, info.name, 1);
    const category = get(this.categories, info.target, 2);
    const location = get(this.locations, `${info.filename}\0${info.line}\0${info.name}`, 4);
    return { name, category, location, fresh };
  }
}

function writeInterned(w: ProtoWriter, info: SliceInfo, ids: InternIds): void {
  w.begin(F.TracePacket.interned_data);
  if (ids.fresh & 2) {
    w.begin(F.InternedData.event_categories).uint(F.InternedString.iid, ids.category).string(F.InternedString.name, info.target).end();
  }
  if (ids.fresh & 1) {
    w.begin(F.InternedData.event_names).uint(F.InternedString.iid, ids.name).string(F.InternedString.name, info.name).end();
  }
  if (ids.fresh & 4) {
    w.begin(F.InternedData.source_locations);
    w.uint(F.SourceLocation.iid, ids.location).string(F.SourceLocation.file_name, info.filename);
    w.string(F.SourceLocation.function_name, info.name).uint(F.SourceLocation.line_number, info.line >>> 0);
    w.end();
  }
  w.end();
}

/** a stable positive int32 from the process id, so the same process shows the same pid in every export */
function derivedPid(processId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < processId.length; i++) h = Math.imul(h ^ processId.charCodeAt(i), 0x01000193);
  return 1000 + ((h >>> 0) % 1_000_000);
}
