/**
 * The transit data model: what an instrumented process says about itself, its streams and its blocks,
 * and the events a block carries. JSON field names match the SQL columns of the `processes`, `streams`
 * and `blocks` views so that nothing is renamed between the wire and a query.
 */

/** Free-form key/value labels attached to processes, streams and events. */
export type Properties = Record<string, string>;

/** Log levels, as in the SQL surface: 1 fatal … 6 trace. */
export const LogLevel = { fatal: 1, error: 2, warn: 3, info: 4, debug: 5, trace: 6 } as const;
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];

/**
 * A process, sent once to `POST /ingestion/insert_process` as JSON.
 * Times are nanoseconds since the Unix epoch and ticks are clock ticks, both as decimal strings because
 * they do not fit in a JSON number. `tsc_frequency` is ticks per second (1e9 for a nanosecond clock).
 */
export interface ProcessInfo {
  process_id: string;
  exe: string;
  username: string;
  realname: string;
  computer: string;
  distro: string;
  cpu_brand: string;
  tsc_frequency: number;
  start_time: string;
  start_ticks: string;
  parent_process_id: string | null;
  properties: Properties;
}

/** A stream of one process, sent once to `POST /ingestion/insert_stream` as JSON. Tags: `log`, `metrics`, `cpu`. */
export interface StreamInfo {
  stream_id: string;
  process_id: string;
  tags: string[];
  properties: Properties;
}

/** The header of a block: carried in the binary envelope sent to `POST /ingestion/insert_block`. */
export interface BlockMeta {
  block_id: string;
  stream_id: string;
  process_id: string;
  /** nanoseconds since the Unix epoch */
  begin_time: bigint;
  begin_ticks: bigint;
  end_time: bigint;
  end_ticks: bigint;
  /** number of events in the payload */
  nb_objects: number;
}

/**
 * A decoded event. `ticks` is relative to the block's `begin_ticks` (so it stays a safe integer);
 * the absolute time is `block.begin_time + ticks * 1e9 / process.tsc_frequency` nanoseconds.
 */
export type TransitEvent =
  | { kind: 'log'; ticks: number; level: number; target: string; msg: string; properties: Properties | null }
  | { kind: 'int_metric'; ticks: number; name: string; unit: string; target: string; value: bigint; properties: Properties | null }
  | { kind: 'float_metric'; ticks: number; name: string; unit: string; target: string; value: number; properties: Properties | null }
  | { kind: 'begin_thread_span' | 'end_thread_span'; ticks: number; name: string; target: string; filename: string; line: number }
  | {
      kind: 'begin_async_span' | 'end_async_span';
      ticks: number;
      span_id: number;
      parent_span_id: number;
      name: string;
      target: string;
      filename: string;
      line: number;
    };

export type TransitEventKind = TransitEvent['kind'];

/** Why decoding failed. Decoders throw only this error, whatever the input. */
export type TransitErrorCode = 'truncated' | 'bad_magic' | 'unsupported_version' | 'limit_exceeded' | 'corrupt';

export class TransitError extends Error {
  override readonly name = 'TransitError';
  constructor(
    readonly code: TransitErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Bounds a decoder enforces before allocating; untrusted input never makes it allocate more. */
export interface DecodeLimits {
  /** largest uncompressed payload accepted, bytes (default 64 MiB) */
  maxPayloadBytes?: number;
  /** most events in one block (default 4 Mi) */
  maxEvents?: number;
  /** longest string, bytes (default 1 MiB) */
  maxStringBytes?: number;
}

/** Block compression codec. Transit itself does no compression; each runtime plugs in an LZ4 implementation. */
export interface Codec {
  /** identifier written in the envelope: 0 none, 1 LZ4 block, 2 LZ4 with the data section apart (`lz4SectionsCodec`) */
  readonly id: 0 | 1 | 2;
  compress(data: Uint8Array): Uint8Array;
  /** must not produce more than `uncompressedSize` bytes; throw on corrupt input */
  decompress(data: Uint8Array, uncompressedSize: number): Uint8Array;
}
