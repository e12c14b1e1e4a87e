/**
 * What OTLP/HTTP exports of every signal share: attribute values, the resource → process mapping (a
 * process id derived from the resource's attributes, so every export of one service instance lands in one
 * process), derived stream and block ids, nanosecond times, the shape checks and the limits of one request.
 *
 * An export becomes at most one block per process: resources that map to the same process (same attributes)
 * share it, whatever their number. The data model needs a process, a stream and a block (an object and a row)
 * per distinct resource, so a request may name at most `maxProcesses` of them; exporters batch by resource,
 * and one service instance's export names one.
 *
 * Block ids are derived from the request's bytes, the signal and the stream, and a block's bytes from the
 * request alone (a record without a time takes the latest of the request's; only a request with no time at all
 * reads the clock), so a re-sent request makes the same blocks: ingestion finds them already stored and adds
 * nothing.
 */
import { createHash } from 'node:crypto';
import { BlockEncoder, encodeBlock, type BlockMeta, type ProcessInfo, type Properties, type StreamInfo } from '@sirius/transit';
import { lz4Codec } from '../lake/lz4-codec.js';
import { HttpError } from './http-error.js';

/**
 * The limits of one export request. An exporter's batch (the Collector's default is 8,192 records) is far
 * below them; a request above answers 413 (too many resources or events) or 400 (too many processes), which
 * exporters do not retry.
 */
export interface OtlpLimits {
  /** resource entries (`resourceLogs`, `resourceSpans`, `resourceMetrics`) */
  maxResources: number;
  /** distinct processes (resources with distinct attributes): each costs a process, a stream, a block */
  maxProcesses: number;
  /** log records, spans (two events each) or measures */
  maxEvents: number;
}

export const DEFAULT_OTLP_LIMITS: OtlpLimits = { maxResources: 1000, maxProcesses: 64, maxEvents: 100_000 };

export interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
  bytesValue?: string;
}

export interface KeyValue {
  key: string;
  value?: AnyValue;
}

/** `v` as an array: absent is empty, anything else than an array is a malformed request. */
export function list<T>(v: unknown, what: string): T[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new HttpError(400, `OTLP: ${what} is not an array`);
  return v as T[];
}

/** `v` as an object (`{}` when absent); a string, number or array where a message belongs is malformed. */
export function message<T extends object>(v: unknown, what: string): Partial<T> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new HttpError(400, `OTLP: ${what} is not an object`);
  return v as Partial<T>;
}

/** an optional string field: absent → `fallback`, another type is malformed */
export function str(v: unknown, what: string, fallback = ''): string {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string') throw new HttpError(400, `OTLP: ${what} is not a string`);
  return v;
}

/** an AnyValue as text: strings as they are, everything else as JSON */
export function text(v: unknown): string {
  if (v === undefined || v === null) return '';
  const m = message<AnyValue>(v, 'an AnyValue');
  if (typeof m.stringValue === 'string') return m.stringValue;
  return JSON.stringify(plain(m));
}

function plain(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  const m = message<AnyValue>(v, 'an AnyValue');
  if ('stringValue' in m) return m.stringValue;
  if ('boolValue' in m) return m.boolValue;
  if ('intValue' in m) return Number(m.intValue);
  if ('doubleValue' in m) return m.doubleValue;
  if ('bytesValue' in m) return m.bytesValue;
  if (m.arrayValue) return list(message<{ values: unknown }>(m.arrayValue, 'arrayValue').values, 'arrayValue.values').map(plain);
  if (m.kvlistValue) return Object.fromEntries(keyValues(message<{ values: unknown }>(m.kvlistValue, 'kvlistValue').values).map((kv) => [kv.key, plain(kv.value)]));
  return null;
}

function keyValues(v: unknown): KeyValue[] {
  return list<unknown>(v, 'attributes').filter((kv): kv is KeyValue => typeof message<KeyValue>(kv, 'an attribute').key === 'string');
}

export function attributes(v: unknown): Properties {
  const out: Properties = {};
  for (const kv of keyValues(v)) out[kv.key] = text(kv.value);
  return out;
}

/** A UUID (version 8, name-based) from `name`: the same resource always gets the same process id. */
export function derivedUuid(name: string): string {
  const h = createHash('sha256').update(name).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** What identifies a request's content: a digest of its bytes, the same for every re-send of it. */
export function requestKey(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const MAX_I64 = 0x7fffffffffffffffn;

export function nanos(v: unknown): bigint | null {
  if (v === undefined || v === null || v === '' || v === 0 || v === '0') return null;
  const ok = typeof v === 'number' ? Number.isSafeInteger(v) && v > 0 : typeof v === 'string' && /^\d{1,20}$/.test(v) && BigInt(v) <= MAX_I64;
  if (!ok) throw new HttpError(400, `OTLP: bad time ${JSON.stringify(v)} (nanoseconds since the epoch)`);
  return BigInt(v as string | number);
}

/** The process a resource stands for; its ticks are nanoseconds since the epoch, so an event's time is its ticks. */
export function resourceProcess(resource: Properties, first: bigint): ProcessInfo {
  return {
    process_id: processId(resource),
    exe: resource['service.name'] ?? 'unknown_service',
    username: resource['process.owner'] ?? '',
    realname: resource['process.owner'] ?? '',
    computer: resource['host.name'] ?? '',
    distro: resource['os.description'] ?? resource['os.type'] ?? '',
    cpu_brand: '',
    tsc_frequency: 1e9,
    start_time: String(first),
    start_ticks: String(first),
    parent_process_id: null,
    properties: { ...resource, source: 'otlp' },
  };
}

function processId(resource: Properties): string {
  return derivedUuid(`otlp process ${JSON.stringify(Object.entries(resource).sort(([a], [b]) => (a < b ? -1 : 1)))}`);
}

/** What a converted export holds, in the order ingestion stores it. */
export interface SiriusData {
  processes: ProcessInfo[];
  streams: StreamInfo[];
  blocks: Uint8Array[];
  records: number;
}

/** What converters are given besides the body: the request's identity (block ids) and limits. */
export interface ConvertOptions {
  /** `requestKey` of the request's bytes; without it, a digest of the body as JSON */
  key?: string;
  limits?: OtlpLimits;
  /** the time of records that carry none when no record of the request does, ns */
  now?: () => bigint;
}

/** an event's time while it has none: `finish` gives it the request's latest (see `OtlpBatch.finish`) */
export const UNTIMED = -1n;

export const defaultNow = (): bigint => BigInt(Date.now()) * 1_000_000n;

/** a span of ticks a block can hold: ticks are exact doubles */
const MAX_BLOCK_SPAN = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Gathers an export's events by process: `add` a resource's events as they are read (the limits are checked
 * then, before more is read), `finish` to encode one block per process.
 */
export class OtlpBatch<E extends { t: bigint }> {
  private readonly groups = new Map<string, { resource: Properties; events: E[] }>();
  private events = 0;
  readonly limits: OtlpLimits;
  private readonly key: string;
  private readonly now: () => bigint;

  constructor(
    private readonly signal: 'logs' | 'traces' | 'metrics',
    /** the stream's tag: `otel_spans` for OpenTelemetry spans kept whole (lakehouse/otel-span-record.ts) */
    private readonly stream: { kind: 'log' | 'metrics' | 'cpu' | 'otel_spans'; properties?: Properties },
    body: unknown,
    resources: number,
    opts: ConvertOptions,
  ) {
    this.limits = opts.limits ?? DEFAULT_OTLP_LIMITS;
    if (resources > this.limits.maxResources) throw new HttpError(413, `OTLP ${signal}: ${resources} resources in one request, more than ${this.limits.maxResources}`);
    this.key = opts.key ?? requestKey(Buffer.from(JSON.stringify(body) ?? ''));
    this.now = opts.now ?? defaultNow;
  }

  /** Counts `n` more events, refusing the request as soon as it holds too many. */
  count(n: number): void {
    this.events += n;
    if (this.events > this.limits.maxEvents) throw new HttpError(413, `OTLP ${this.signal}: more than ${this.limits.maxEvents} events in one request`);
  }

  add(resource: Properties, events: E[]): void {
    if (events.length === 0) return;
    const id = processId(resource);
    const group = this.groups.get(id);
    if (group) {
      for (const e of events) group.events.push(e);
      return;
    }
    if (this.groups.size >= this.limits.maxProcesses) {
      throw new HttpError(400, `OTLP ${this.signal}: more than ${this.limits.maxProcesses} distinct resources (service instances) in one request; send each instance's data in its own requests`);
    }
    this.groups.set(id, { resource, events: [...events] });
  }

  /**
   * One process, stream and block per group: events in time order (`order` breaks ties), ticks counted from
   * the earliest, `write` encodes them; `records` tells how many records a group's events stand for.
   */
  finish(order: (a: E, b: E) => number, write: (enc: BlockEncoder, events: E[], first: bigint) => void, records: (events: E[]) => number): SiriusData {
    const out: SiriusData = { processes: [], streams: [], blocks: [], records: 0 };
    // Records without a time take the latest of the request's, which keeps a re-sent request's bytes the same
    // (and its blocks within a tick range); the clock only when no record has one.
    let latest = UNTIMED;
    for (const { events } of this.groups.values()) for (const e of events) if (e.t > latest) latest = e.t;
    if (latest === UNTIMED) latest = this.now();
    for (const { resource, events } of this.groups.values()) {
      for (const e of events) if (e.t === UNTIMED) e.t = latest;
      events.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : order(a, b)));
      const first = events[0]!.t;
      const last = events[events.length - 1]!.t;
      if (last - first > MAX_BLOCK_SPAN) throw new HttpError(400, `OTLP ${this.signal}: one resource's events span more than 2^53 ns (104 days)`);
      const process = resourceProcess(resource, first);
      const streamId = derivedUuid(`otlp ${this.stream.kind} stream ${process.process_id}`);
      out.processes.push(process);
      out.streams.push({ stream_id: streamId, process_id: process.process_id, tags: [this.stream.kind], properties: { source: 'otlp', ...this.stream.properties } });
      // a fresh encoder per block: its string ids restart at 0, so the same events always give the same bytes
      const enc = new BlockEncoder();
      write(enc, events, first);
      const meta: BlockMeta = {
        block_id: derivedUuid(`otlp block ${this.signal} ${this.key} ${streamId}`), stream_id: streamId, process_id: process.process_id,
        begin_time: first, begin_ticks: first, end_time: last, end_ticks: last, nb_objects: events.length,
      };
      out.blocks.push(encodeBlock(meta, enc.finish(), lz4Codec));
      out.records += records(events);
    }
    return out;
  }
}

