/**
 * OpenTelemetry logs (OTLP/HTTP `POST /v1/logs`, JSON or protobuf: otlp-protobuf.ts) as Sirius data: each
 * resource becomes a process (its id derived from the resource's attributes, so every export of one service
 * instance lands in one process), with one `log` stream, and each request one block per process (resources with the same attributes share it), which then
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
import { attributes, list, message, nanos, OtlpBatch, str, text, type AnyValue, type ConvertOptions, type KeyValue, type SiriusData, UNTIMED } from './otlp-common.js';
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

interface ResourceLogs {
  resource?: { attributes?: KeyValue[] };
  scopeLogs?: { scope?: { name?: string }; logRecords?: LogRecord[] }[];
}

const SEVERITY_WORDS: Record<string, number> = { fatal: 1, critical: 1, error: 2, warn: 3, warning: 3, info: 4, debug: 5, trace: 6 };

function level(r: Partial<LogRecord>): number {
  const n = r.severityNumber;
  if (typeof n === 'number' && n >= 1 && n <= 24) return 6 - Math.floor((n - 1) / 4);
  return SEVERITY_WORDS[str(r.severityText, 'severityText').toLowerCase()] ?? 4;
}

interface Record_ {
  t: bigint;
  level: number;
  target: string;
  msg: string;
  props: Properties;
}

/** Converts an OTLP JSON logs export; throws HttpError(400 or 413) on what is not one or is too large. */
export function otlpLogsToSirius(body: unknown, opts: ConvertOptions = {}): SiriusData {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { resourceLogs?: unknown }).resourceLogs)) {
    throw new HttpError(400, 'OTLP: expected an ExportLogsServiceRequest in JSON ({"resourceLogs": [...]})');
  }
  const resources = (body as { resourceLogs: unknown[] }).resourceLogs;
  const batch = new OtlpBatch<Record_>('logs', { kind: 'log' }, body, resources.length, opts);
  for (const item of resources) {
    const rl = message<ResourceLogs>(item, 'a ResourceLogs');
    const resource = attributes(message<{ attributes: unknown }>(rl.resource, 'resource').attributes);
    const records: Record_[] = [];
    for (const slItem of list(rl.scopeLogs, 'scopeLogs')) {
      const sl = message<{ scope: unknown; logRecords: unknown }>(slItem, 'a ScopeLogs');
      const target = str(message<{ name: unknown }>(sl.scope, 'scope').name, 'scope.name') || 'otlp';
      const logRecords = list(sl.logRecords, 'logRecords');
      batch.count(logRecords.length);
      for (const item of logRecords) {
        const r = message<LogRecord>(item, 'a LogRecord');
        const props = attributes(r.attributes);
        const traceId = str(r.traceId, 'traceId');
        const spanId = str(r.spanId, 'spanId');
        if (traceId) props.trace_id = traceId;
        if (spanId) props.span_id = spanId;
        records.push({ t: nanos(r.timeUnixNano) ?? nanos(r.observedTimeUnixNano) ?? UNTIMED, level: level(r), target, msg: text(r.body), props });
      }
    }
    batch.add(resource, records);
  }
  return batch.finish(
    () => 0,
    (enc, records, first) => {
      for (const r of records) enc.log(Number(r.t - first), r.level, r.target, r.msg, Object.keys(r.props).length ? r.props : null);
    },
    (records) => records.length,
  );
}
