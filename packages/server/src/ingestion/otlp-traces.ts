/**
 * OpenTelemetry traces (OTLP/HTTP `POST /v1/traces`, JSON or protobuf) kept twice per resource's process
 * (otlp-common.ts), in one block each per request:
 *  - as OpenTelemetry spans, whole: a stream tagged `otel_spans` holds one record per span (trace id, span id,
 *    parent, kind, status, attributes, events, links; lakehouse/otel-span-record.ts), which the lakehouse
 *    materializes into the global `otel_spans` view: one trace across every service that took part in it;
 *  - as Sirius async spans: a `cpu` stream whose blocks hold a begin and an end event per span, with its parent,
 *    so `view_instance('async_events', process)` and the web app's Async spans tab show them too. Span ids
 *    become 52-bit numbers there (the low 13 hex digits of the 16; 0 is "no parent").
 * A span's name → name, its scope's name → target.
 *
 * @example
 *   const { processes, streams, blocks } = otlpTracesToSirius(JSON.parse(body));
 */
import type { Properties } from '@sirius/transit';
import { attributes, list, message, nanos, OtlpBatch, str, type ConvertOptions, type KeyValue, type SiriusData } from './otlp-common.js';
import { HttpError } from './http-error.js';
import { OTEL_SPANS_TAG, SPAN_KINDS, STATUS_CODES, type OtelSpanRecord } from '../lakehouse/otel-span-record.js';

interface Span {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  traceState?: string;
  name?: string;
  kind?: number | string;
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
  attributes?: KeyValue[];
  events?: { timeUnixNano?: string | number; name?: string; attributes?: KeyValue[] }[];
  links?: { traceId?: string; spanId?: string; traceState?: string; attributes?: KeyValue[] }[];
  status?: { code?: number | string; message?: string };
}

interface ResourceSpans {
  resource?: { attributes?: KeyValue[] };
  scopeSpans?: { scope?: { name?: string }; spans?: Span[] }[];
}

interface SpanEvent {
  t: bigint;
  begin: boolean;
  id: number;
  parent: number;
  name: string;
  target: string;
}

/** a span as the otel_spans stream keeps it (one log event: time, target, attributes, the record as JSON) */
interface OtelSpan {
  t: bigint;
  target: string;
  attributes: Properties;
  record: OtelSpanRecord;
}

/** an OTLP id of `digits` hex digits, lowercased; absent → '' */
function hexId(v: unknown, digits: number, what: string): string {
  if (v === undefined || v === null || v === '') return '';
  if (typeof v !== 'string' || v.length !== digits || !/^[0-9a-fA-F]+$/.test(v)) throw new HttpError(400, `OTLP: bad ${what} ${JSON.stringify(v)} (${digits} hex digits)`);
  return v.toLowerCase();
}

/** an OTLP span id (16 hex digits) as a number Sirius can hold exactly; '' → 0, no parent */
function spanNumber(hex: string): number {
  return hex === '' ? 0 : parseInt(hex.slice(3), 16) || 1;
}

/** an OTLP enum: its number (JSON and protobuf) or its name (`SPAN_KIND_SERVER`, `STATUS_CODE_ERROR`) */
function enumName<T extends string>(v: unknown, names: readonly T[], prefix: string, what: string): T {
  if (v === undefined || v === null) return names[0]!;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < names.length) return names[v]!;
  if (typeof v === 'string') {
    const name = v.toLowerCase().replace(prefix, '') as T;
    if (names.includes(name)) return name;
  }
  throw new HttpError(400, `OTLP: bad ${what} ${JSON.stringify(v)}`);
}

/** Converts an OTLP JSON traces export; throws HttpError(400 or 413) on what is not one or is too large. */
export function otlpTracesToSirius(body: unknown, opts: ConvertOptions = {}): SiriusData {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { resourceSpans?: unknown }).resourceSpans)) {
    throw new HttpError(400, 'OTLP: expected an ExportTraceServiceRequest in JSON ({"resourceSpans": [...]})');
  }
  const resources = (body as { resourceSpans: unknown[] }).resourceSpans;
  const batch = new OtlpBatch<SpanEvent>('traces', { kind: 'cpu', properties: { thread_name: 'OpenTelemetry spans' } }, body, resources.length, opts);
  // counted in `batch` only: one request's limits, whatever the number of streams it feeds
  const otel = new OtlpBatch<OtelSpan>('traces', { kind: OTEL_SPANS_TAG }, body, resources.length, { ...opts, limits: { ...batch.limits, maxEvents: Infinity } });
  for (const item of resources) {
    const rs = message<ResourceSpans>(item, 'a ResourceSpans');
    const resource = attributes(message<{ attributes: unknown }>(rs.resource, 'resource').attributes);
    const events: SpanEvent[] = [];
    const spansOut: OtelSpan[] = [];
    for (const ssItem of list(rs.scopeSpans, 'scopeSpans')) {
      const ss = message<{ scope: unknown; spans: unknown }>(ssItem, 'a ScopeSpans');
      const target = str(message<{ name: unknown }>(ss.scope, 'scope').name, 'scope.name') || 'otlp';
      const spans = list(ss.spans, 'spans');
      batch.count(2 * spans.length);
      for (const item of spans) {
        const s = message<Span>(item, 'a Span');
        const name = str(s.name, 'span name');
        const begin = nanos(s.startTimeUnixNano);
        const end = nanos(s.endTimeUnixNano);
        if (begin === null || end === null) throw new HttpError(400, `OTLP: span ${JSON.stringify(name)} needs its start and end times`);
        const spanId = hexId(s.spanId, 16, 'spanId');
        if (spanId === '') throw new HttpError(400, `OTLP: span ${JSON.stringify(name)} has no spanId`);
        const parentId = hexId(s.parentSpanId, 16, 'parentSpanId');
        const id = spanNumber(spanId);
        const parent = spanNumber(parentId);
        const last = end < begin ? begin : end;
        events.push({ t: begin, begin: true, id, parent, name, target }, { t: last, begin: false, id, parent, name, target });
        spansOut.push({ t: begin, target, attributes: attributes(s.attributes), record: spanRecord(s, name, spanId, parentId, last) });
      }
    }
    batch.add(resource, events);
    otel.add(resource, spansOut);
  }
  const async = batch.finish(
    // a span that ends when it begins: its begin first
    (a, b) => Number(b.begin) - Number(a.begin),
    (enc, events, first) => {
      for (const e of events) {
        const ticks = Number(e.t - first);
        if (e.begin) enc.beginAsyncSpan(ticks, e.id, e.parent, e.name, e.target, '', 0);
        else enc.endAsyncSpan(ticks, e.id, e.parent, e.name, e.target, '', 0);
      }
    },
    (events) => events.length / 2,
  );
  const spans = otel.finish(
    () => 0,
    (enc, spans, first) => {
      for (const s of spans) {
        const level = s.record.status_code === 'error' ? 2 : 4;
        enc.log(Number(s.t - first), level, s.target, JSON.stringify(s.record), Object.keys(s.attributes).length ? s.attributes : null);
      }
    },
    (spans) => spans.length,
  );
  // one process per resource, described the same by both (same resource, same earliest time)
  return { processes: async.processes, streams: [...spans.streams, ...async.streams], blocks: [...spans.blocks, ...async.blocks], records: spans.records };
}

function spanRecord(s: Partial<Span>, name: string, spanId: string, parentId: string, end: bigint): OtelSpanRecord {
  const status = message<{ code: unknown; message: unknown }>(s.status, 'status');
  return {
    name,
    trace_id: hexId(s.traceId, 32, 'traceId'),
    span_id: spanId,
    parent_span_id: parentId,
    trace_state: str(s.traceState, 'traceState'),
    kind: enumName(s.kind, SPAN_KINDS, 'span_kind_', 'span kind'),
    status_code: enumName(status.code, STATUS_CODES, 'status_code_', 'status code'),
    status_message: str(status.message, 'status.message'),
    end: String(end),
    events: list<unknown>(s.events, 'events').map((item) => {
      const e = message<{ timeUnixNano: unknown; name: unknown; attributes: unknown }>(item, 'a span event');
      // an event without a time happened, as far as anyone can tell, when the span began
      return { time: String(nanos(e.timeUnixNano) ?? nanos(s.startTimeUnixNano)), name: str(e.name, 'event name'), attributes: attributes(e.attributes) };
    }),
    links: list<unknown>(s.links, 'links').map((item) => {
      const l = message<{ traceId: unknown; spanId: unknown; traceState: unknown; attributes: unknown }>(item, 'a span link');
      return { trace_id: hexId(l.traceId, 32, 'link traceId'), span_id: hexId(l.spanId, 16, 'link spanId'), trace_state: str(l.traceState, 'link traceState'), attributes: attributes(l.attributes) };
    }),
  };
}
