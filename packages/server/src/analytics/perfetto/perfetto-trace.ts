/**
 * Builds a Perfetto trace (a serialized `perfetto.protos.Trace`) from span view rows, so a process's
 * CPU trace opens in ui.perfetto.dev or trace_processor. Layout:
 * - one process track, one thread track per stream (child of the process), and the async lanes as
 *   further children of the process track;
 * - every packet on one sequence; the first clears incremental state, later ones need it, and event
 *   names, categories (the span target) and source locations are interned on first use;
 * - slice events sorted by timestamp across tracks (stable, so each track's own order survives ties).
 */
import type { RowBatch } from '../../lakehouse/row-batch.js';
import { ProtoWriter } from './proto-writer.js';
import * as F from './perfetto-fields.js';
import { asyncSliceEvents, threadSliceEvents, type SliceEvent, type SliceInfo } from './slice-events.js';

export interface PerfettoProcess {
  process_id: string;
  /** executable name, shown as the process name */
  exe: string;
  /** OS process id to show; by default a stable number derived from process_id */
  pid?: number;
}

export interface PerfettoThread {
  stream_id: string;
  /** the thread name to show */
  name: string;
  /** `thread_spans` rows of the stream */
  rows: RowBatch;
}

export interface PerfettoTraceInput {
  process: PerfettoProcess;
  threads: readonly PerfettoThread[];
  /** `async_events` rows of the process */
  async?: RowBatch;
}

const SEQUENCE_ID = 1;
const PROCESS_UUID = 1;

/**
 * @example
 * const bytes = perfettoTrace({ process: { process_id, exe: 'game' }, threads: [{ stream_id, name: 'main', rows }] });
 * await writeFile('trace.perfetto', bytes); // open in ui.perfetto.dev
 */
export function perfettoTrace(input: PerfettoTraceInput): Uint8Array {
  const w = new ProtoWriter();
  const pid = input.process.pid ?? derivedPid(input.process.process_id);
  let first = true;
  const packetHeader = (): void => {
    w.begin(F.Trace.packet);
    w.uint(F.TracePacket.trusted_packet_sequence_id, SEQUENCE_ID);
    w.uint(
      F.TracePacket.sequence_flags,
      first ? F.SequenceFlags.SEQ_INCREMENTAL_STATE_CLEARED : F.SequenceFlags.SEQ_NEEDS_INCREMENTAL_STATE,
    );
    first = false;
  };

  packetHeader();
  w.begin(F.TracePacket.track_descriptor);
  w.uint(F.TrackDescriptor.uuid, PROCESS_UUID);
  w.string(F.TrackDescriptor.name, input.process.exe);
  w.begin(F.TrackDescriptor.process).uint(F.ProcessDescriptor.pid, pid).string(F.ProcessDescriptor.process_name, input.process.exe).end();
  w.end().end();

  // tracks: process, threads, async lanes — uuids in that order
  const tracks: { uuid: number; events: SliceEvent[] }[] = [];
  input.threads.forEach((thread, i) => {
    const uuid = PROCESS_UUID + 1 + i;
    packetHeader();
    w.begin(F.TracePacket.track_descriptor);
    w.uint(F.TrackDescriptor.uuid, uuid).uint(F.TrackDescriptor.parent_uuid, PROCESS_UUID);
    w.string(F.TrackDescriptor.name, thread.name);
    w.begin(F.TrackDescriptor.thread);
    w.uint(F.ThreadDescriptor.pid, pid).uint(F.ThreadDescriptor.tid, pid + 1 + i).string(F.ThreadDescriptor.thread_name, thread.name);
    w.end().end().end();
    tracks.push({ uuid, events: threadSliceEvents(thread.rows) });
  });
  if (input.async !== undefined && input.async.length > 0) {
    const { events, lanes } = asyncSliceEvents(input.async);
    const firstUuid = PROCESS_UUID + 1 + input.threads.length;
    for (let lane = 0; lane < lanes; lane++) {
      packetHeader();
      w.begin(F.TracePacket.track_descriptor);
      w.uint(F.TrackDescriptor.uuid, firstUuid + lane).uint(F.TrackDescriptor.parent_uuid, PROCESS_UUID);
      w.string(F.TrackDescriptor.name, lane === 0 ? 'async' : `async ${lane + 1}`);
      w.end().end();
    }
    tracks.push(...splitLanes(events, lanes, firstUuid));
  }

  const all: { uuid: number; ev: SliceEvent }[] = [];
  for (const t of tracks) for (const ev of t.events) all.push({ uuid: t.uuid, ev });
  all.sort((a, b) => (a.ev.ts < b.ev.ts ? -1 : a.ev.ts > b.ev.ts ? 1 : 0));

  const interner = new Interner();
  for (const { uuid, ev } of all) {
    packetHeader();
    w.uint64(F.TracePacket.timestamp, ev.ts);
    if (ev.begin) {
      const ids = interner.ids(ev.info);
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
  return w.finish();
}

function splitLanes(events: SliceEvent[], lanes: number, firstUuid: number): { uuid: number; events: SliceEvent[] }[] {
  const out = Array.from({ length: lanes }, (_, lane) => ({ uuid: firstUuid + lane, events: [] as SliceEvent[] }));
  for (const ev of events) out[ev.lane]!.events.push(ev);
  return out;
}

interface InternIds {
  name: number;
  category: number;
  location: number;
  /** which of the three are new in this packet: bit 1 name, 2 category, 4 location */
  fresh: number;
}

/** Interning ids per sequence; 0 is invalid in Perfetto, so ids start at 1. */
class Interner {
  private readonly names = new Map<string, number>();
  private readonly categories = new Map<string, number>();
  private readonly locations = new Map<string, number>();

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
