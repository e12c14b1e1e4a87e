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
import { addResourceBlock, attributes, nanos, type KeyValue, type SiriusData } from './otlp-common.js';
import { HttpError } from './http-error.js';

interface Span {
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
}

interface ExportTraceServiceRequest {
  resourceSpans?: { resource?: { attributes?: KeyValue[] }; scopeSpans?: { scope?: { name?: string }; spans?: Span[] }[] }[];
}

/** an OTLP span id (16 hex digits) as a number Sirius can hold exactly; '' → 0, no parent */
function spanNumber(hex: string | undefined, what: string): number {
  if (hex === undefined || hex === '') return 0;
  if (!/^[0-9a-fA-F]{16}$/.test(hex)) throw new HttpError(400, `OTLP: bad ${what} ${JSON.stringify(hex)} (16 hex digits)`);
  return parseInt(hex.slice(3), 16) || 1;
}

/** Converts an OTLP JSON traces export; throws HttpError(400) on what is not one. */
export function otlpTracesToSirius(body: unknown): SiriusData {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as ExportTraceServiceRequest).resourceSpans)) {
    throw new HttpError(400, 'OTLP: expected an ExportTraceServiceRequest in JSON ({"resourceSpans": [...]})');
  }
  const out: SiriusData = { processes: [], streams: [], blocks: [], records: 0 };
  for (const rs of (body as ExportTraceServiceRequest).resourceSpans!) {
    const resource = attributes(rs?.resource?.attributes);
    const events: { t: bigint; begin: boolean; id: number; parent: number; name: string; target: string }[] = [];
    for (const ss of rs?.scopeSpans ?? []) {
      const target = ss?.scope?.name || 'otlp';
      for (const s of ss?.spans ?? []) {
        const begin = nanos(s.startTimeUnixNano);
        const end = nanos(s.endTimeUnixNano);
        if (begin === null || end === null) throw new HttpError(400, `OTLP: span ${JSON.stringify(s.name ?? '')} needs its start and end times`);
        const id = spanNumber(s.spanId, 'spanId');
        if (id === 0) throw new HttpError(400, `OTLP: span ${JSON.stringify(s.name ?? '')} has no spanId`);
        const parent = spanNumber(s.parentSpanId, 'parentSpanId');
        const name = s.name ?? '';
        events.push({ t: begin, begin: true, id, parent, name, target }, { t: end < begin ? begin : end, begin: false, id, parent, name, target });
      }
    }
    if (events.length === 0) continue;
    events.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : Number(b.begin) - Number(a.begin)));
    const first = events[0]!.t;
    const last = events[events.length - 1]!.t;
    addResourceBlock(out, resource, { kind: 'cpu', properties: { thread_name: 'OpenTelemetry spans' } }, first, last, events.length, (enc) => {
      for (const e of events) {
        const ticks = Number(e.t - first);
        if (e.begin) enc.beginAsyncSpan(ticks, e.id, e.parent, e.name, e.target, '', 0);
        else enc.endAsyncSpan(ticks, e.id, e.parent, e.name, e.target, '', 0);
      }
    });
    out.records += events.length / 2;
  }
  return out;
}
