/**
 * What OTLP/HTTP JSON exports of every signal share: attribute values, the resource → process mapping (a
 * process id derived from the resource's attributes, so every export of one service instance lands in one
 * process), derived stream ids, and nanosecond times.
 */
import { createHash, randomUUID } from 'node:crypto';
import { BlockEncoder, encodeBlock, type BlockMeta, type ProcessInfo, type Properties, type StreamInfo } from '@sirius/transit';
import { lz4Codec } from '../lake/lz4-codec.js';
import { HttpError } from './http-error.js';

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

/** an AnyValue as text: strings as they are, everything else as JSON */
export function text(v: AnyValue | undefined): string {
  if (v === undefined || v === null) return '';
  if (typeof v.stringValue === 'string') return v.stringValue;
  return JSON.stringify(plain(v));
}

function plain(v: AnyValue | undefined): unknown {
  if (v === undefined || v === null) return null;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  if ('bytesValue' in v) return v.bytesValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(plain);
  if (v.kvlistValue) return Object.fromEntries((v.kvlistValue.values ?? []).map((kv) => [kv.key, plain(kv.value)]));
  return null;
}

export function attributes(list: KeyValue[] | undefined): Properties {
  const out: Properties = {};
  for (const kv of list ?? []) if (typeof kv?.key === 'string') out[kv.key] = text(kv.value);
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

export function nanos(v: string | number | undefined): bigint | null {
  if (v === undefined || v === null || v === '' || v === 0 || v === '0') return null;
  if (typeof v === 'number' ? !Number.isSafeInteger(v) : !/^\d{1,20}$/.test(v)) throw new HttpError(400, `OTLP: bad time ${JSON.stringify(v)} (nanoseconds since the epoch)`);
  return BigInt(v);
}

/** The process a resource stands for; its ticks are nanoseconds since the epoch, so an event's time is its ticks. */
export function resourceProcess(resource: Properties, first: bigint): ProcessInfo {
  return {
    process_id: derivedUuid(`otlp process ${JSON.stringify(Object.entries(resource).sort(([a], [b]) => (a < b ? -1 : 1)))}`),
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

/** What a converted export holds, in the order ingestion stores it. */
export interface SiriusData {
  processes: ProcessInfo[];
  streams: StreamInfo[];
  blocks: Uint8Array[];
  records: number;
}

/**
 * Adds one resource's events to `out`: its process, its stream of `kind` (id derived from the process, so
 * every export appends to the same stream) and one block of `count` events that `write` encodes, with ticks
 * counted from `first` (the earliest event; `last` the latest).
 */
export function addResourceBlock(
  out: SiriusData,
  resource: Properties,
  stream: { kind: 'log' | 'metrics' | 'cpu'; properties?: Properties },
  first: bigint,
  last: bigint,
  count: number,
  write: (enc: BlockEncoder) => void,
): void {
  const process = resourceProcess(resource, first);
  const streamId = derivedUuid(`otlp ${stream.kind} stream ${process.process_id}`);
  out.processes.push(process);
  out.streams.push({ stream_id: streamId, process_id: process.process_id, tags: [stream.kind], properties: { source: 'otlp', ...stream.properties } });
  const enc = new BlockEncoder();
  write(enc);
  const meta: BlockMeta = {
    block_id: randomUUID(), stream_id: streamId, process_id: process.process_id,
    begin_time: first, begin_ticks: first, end_time: last, end_ticks: last, nb_objects: count,
  };
  out.blocks.push(encodeBlock(meta, enc.finish(), lz4Codec));
}
