/**
 * Field numbers of the Perfetto trace protos we write, from google/perfetto `protos/perfetto/trace/`
 * (trace.proto, trace_packet.proto, track_event/track_event.proto, track_event/track_descriptor.proto,
 * track_event/process_descriptor.proto, track_event/thread_descriptor.proto,
 * track_event/source_location.proto, interned_data/interned_data.proto).
 */
export const Trace = { packet: 1 } as const;

export const TracePacket = {
  timestamp: 8,
  trusted_packet_sequence_id: 10,
  track_event: 11,
  interned_data: 12,
  sequence_flags: 13,
  track_descriptor: 60,
} as const;

export const SequenceFlags = { SEQ_INCREMENTAL_STATE_CLEARED: 1, SEQ_NEEDS_INCREMENTAL_STATE: 2 } as const;

export const TrackDescriptor = { uuid: 1, name: 2, process: 3, thread: 4, parent_uuid: 5 } as const;
export const ProcessDescriptor = { pid: 1, process_name: 6 } as const;
export const ThreadDescriptor = { pid: 1, tid: 2, thread_name: 5 } as const;

export const TrackEvent = {
  category_iids: 3,
  type: 9,
  name_iid: 10,
  track_uuid: 11,
  source_location_iid: 34,
} as const;
export const TrackEventType = { TYPE_SLICE_BEGIN: 1, TYPE_SLICE_END: 2 } as const;

export const InternedData = { event_categories: 1, event_names: 2, source_locations: 4 } as const;
/** EventCategory and EventName share this layout */
export const InternedString = { iid: 1, name: 2 } as const;
export const SourceLocation = { iid: 1, file_name: 2, function_name: 3, line_number: 4 } as const;
