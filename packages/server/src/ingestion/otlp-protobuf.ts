/**
 * OTLP/HTTP's protobuf encoding (what most OpenTelemetry exporters send by default): an export request decoded
 * with the subset of OTLP's messages Sirius reads (proto/otlp.proto) into the same shape as its JSON encoding,
 * so one converter per signal serves both: camelCase names, 64-bit integers as strings, trace and span ids as
 * hex, other bytes as base64.
 *
 * @example
 *   const body = decodeOtlpProtobuf('logs', await readBody(req, limit));   // then otlpLogsToSirius(body)
 */
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { HttpError } from './http-error.js';

const root = protobuf.loadSync(fileURLToPath(new URL('./proto/otlp.proto', import.meta.url)));
const REQUESTS = {
  logs: root.lookupType('sirius.otlp.ExportLogsServiceRequest'),
  traces: root.lookupType('sirius.otlp.ExportTraceServiceRequest'),
  metrics: root.lookupType('sirius.otlp.ExportMetricsServiceRequest'),
};

export type OtlpSignal = keyof typeof REQUESTS;

const ID_KEYS = new Set(['traceId', 'spanId', 'parentSpanId']);

/** bytes as OTLP/JSON writes them: ids in hex, anything else in base64 */
function jsonBytes(value: unknown, key?: string): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString(key && ID_KEYS.has(key) ? 'hex' : 'base64');
  if (Array.isArray(value)) return value.map((v) => jsonBytes(v));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonBytes(v, k)]));
  return value;
}

export function decodeOtlpProtobuf(signal: OtlpSignal, bytes: Uint8Array): unknown {
  const type = REQUESTS[signal];
  let message: protobuf.Message;
  try {
    message = type.decode(bytes);
  } catch (err) {
    throw new HttpError(400, `OTLP: not a protobuf ${type.name}: ${(err as Error).message}`);
  }
  return jsonBytes(type.toObject(message, { longs: String, enums: Number, arrays: true }));
}
