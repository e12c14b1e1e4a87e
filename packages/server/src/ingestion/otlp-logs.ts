/**
 * OpenTelemetry logs (OTLP/HTTP `POST /v1/logs`, JSON or protobuf: otlp-protobuf.ts) as Sirius data: each
 * resource becomes a process (its id derived from the resource's attributes, so every export of one service
 * instance lands in one process), with one `log` stream, and each request one block per resource, which then
 * takes the same path as a block from the tracing library (validated, object written, row committed). An
 * OpenTelemetry SDK or Collector pointed at the server (`OTEL_EXPORTER_OTLP_ENDPOINT=http://host:9000`) needs
 * nothing else.
 *
 * Mapping: `service.name` → exe, `host.name` → computer, `process.owner` → username, the resource's
 * attributes → process properties; the scope's name → target (`otlp` without one); `severityNumber` 1–24 →
 * level 6 (trace) … 1 (fatal), else `severityText`, else info; a string body → msg (any other body as JSON);
 * the record's attributes, and its trace and span ids, → properties; `timeUnixNano` (else
 * `observedTimeUnixNano`) → time.
 *
 * @example
 *   const { processes, streams, blocks } = otlpLogsToSirius(JSON.parse(body));
 */
import type { Properties } from '@sirius/transit';
import { addResourceBlock, attributes, nanos, text, type AnyValue, type KeyValue, type SiriusData } from './otlp-common.js';
import { HttpError } from './http-error.js';

interface LogRecord {
  timeUnixNano?: string | number;
  observedTimeUnixNano?: string | number;
  severityNumber?: number;
  severityText?: string;
  body?: AnyValue;
  attributes?: KeyValue[];
  traceId?: string;
  spanId?: string;
}

interface ExportLogsServiceRequest {
  resourceLogs?: { resource?: { attributes?: KeyValue[] }; scopeLogs?: { scope?: { name?: string }; logRecords?: LogRecord[] }[] }[];
}

const SEVERITY_WORDS: Record<string, number> = { fatal: 1, critical: 1, error: 2, warn: 3, warning: 3, info: 4, debug: 5, trace: 6 };

function level(r: LogRecord): number {
  const n = r.severityNumber;
  if (typeof n === 'number' && n >= 1 && n <= 24) return 6 - Math.floor((n - 1) / 4);
  return SEVERITY_WORDS[(r.severityText ?? '').toLowerCase()] ?? 4;
}

/** Converts an OTLP JSON logs export; throws HttpError(400) on what is not one. */
export function otlpLogsToSirius(body: unknown, now: () => bigint = () => BigInt(Date.now()) * 1_000_000n): SiriusData {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as ExportLogsServiceRequest).resourceLogs)) {
    throw new HttpError(400, 'OTLP: expected an ExportLogsServiceRequest in JSON ({"resourceLogs": [...]})');
  }
  const out: SiriusData = { processes: [], streams: [], blocks: [], records: 0 };
  for (const rl of (body as ExportLogsServiceRequest).resourceLogs!) {
    const resource = attributes(rl?.resource?.attributes);
    const records: { t: bigint; level: number; target: string; msg: string; props: Properties }[] = [];
    for (const sl of rl?.scopeLogs ?? []) {
      const target = sl?.scope?.name || 'otlp';
      for (const r of sl?.logRecords ?? []) {
        const props = attributes(r.attributes);
        if (r.traceId) props.trace_id = r.traceId;
        if (r.spanId) props.span_id = r.spanId;
        records.push({ t: nanos(r.timeUnixNano) ?? nanos(r.observedTimeUnixNano) ?? now(), level: level(r), target, msg: text(r.body), props });
      }
    }
    if (records.length === 0) continue;
    records.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
    const first = records[0]!.t;
    const last = records[records.length - 1]!.t;
    addResourceBlock(out, resource, { kind: 'log' }, first, last, records.length, (enc) => {
      for (const r of records) enc.log(Number(r.t - first), r.level, r.target, r.msg, Object.keys(r.props).length ? r.props : null);
    });
    out.records += records.length;
  }
  return out;
}
