/**
 * OpenTelemetry traces (OTLP/HTTP `POST /v1/traces`, JSON or protobuf) as Sirius async spans: each
 * resource's process (otlp-common.ts) gets one `cpu` stream whose blocks hold a begin and an end event per span, with its parent,
 * so `view_instance('async_events', process)` and the web app's Async spans tab show them: how often each
 * operation ran and how long it took. A span's name → name, its scope's name → target; span ids become
 * 52-bit numbers (the low 13 hex digits of the 16; 0 is "no parent"). Span attributes and status are not kept:
 * async events carry none.
 *
 * @example
 *   const { processes, streams, blocks } = otlpTracesToSirius(JSON.parse(body));
 */
import { attributes, list, message, nanos, OtlpBatch, str, type ConvertOptions, type KeyValue, type SiriusData } from './otlp-common.js';
import { HttpError } from './http-error.js';

interface Span {
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
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

/** an OTLP span id (16 hex digits) as a number Sirius can hold exactly; '' → 0, no parent */
function spanNumber(hex: unknown, what: string): number {
  if (hex === undefined || hex === null || hex === '') return 0;
  if (typeof hex !== 'string' || !/^[0-9a-fA-F]{16}$/.test(hex)) throw new HttpError(400, `OTLP: bad ${what} ${JSON.stringify(hex)} (16 hex digits)`);
  return parseInt(hex.slice(3), 16) || 1;
}

/** Converts an OTLP JSON traces export; throws HttpError(400 or 413) on what is not one or is too large. */
export function otlpTracesToSirius(body: unknown, opts: ConvertOptions = {}): SiriusData {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { resourceSpans?: unknown }).resourceSpans)) {
    throw new HttpError(400, 'OTLP: expected an ExportTraceServiceRequest in JSON ({"resourceSpans": [...]})');
  }
  const resources = (body as { resourceSpans: unknown[] }).resourceSpans;
  const batch = new OtlpBatch<SpanEvent>('traces', { kind: 'cpu', properties: { thread_name: 'OpenTelemetry spans' } }, body, resources.length, opts);
  for (const item of resources) {
    const rs = message<ResourceSpans>(item, 'a ResourceSpans');
    const resource = attributes(message<{ attributes: unknown }>(rs.resource, 'resource').attributes);
    const events: SpanEvent[] = [];
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
        const id = spanNumber(s.spanId, 'spanId');
        if (id === 0) throw new HttpError(400, `OTLP: span ${JSON.stringify(name)} has no spanId`);
        const parent = spanNumber(s.parentSpanId, 'parentSpanId');
        events.push({ t: begin, begin: true, id, parent, name, target }, { t: end < begin ? begin : end, begin: false, id, parent, name, target });
      }
    }
    batch.add(resource, events);
  }
  return batch.finish(
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
}
