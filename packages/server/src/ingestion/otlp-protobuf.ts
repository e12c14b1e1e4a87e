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
import { DEFAULT_OTLP_LIMITS, type OtlpLimits } from './otlp-common.js';

const root = protobuf.loadSync(fileURLToPath(new URL('./proto/otlp.proto', import.meta.url)));
const REQUESTS = {
  logs: root.lookupType('sirius.otlp.ExportLogsServiceRequest'),
  traces: root.lookupType('sirius.otlp.ExportTraceServiceRequest'),
  metrics: root.lookupType('sirius.otlp.ExportMetricsServiceRequest'),
};

export type OtlpSignal = keyof typeof REQUESTS;

const ID_KEYS = new Set(['traceId', 'spanId', 'parentSpanId']);

/**
 * bytes as OTLP/JSON writes them: ids in hex, anything else in base64. In place: `toObject` made the tree for
 * us alone, and rebuilding every object of a large export cost as much as decoding it.
 */
function jsonBytes(value: unknown, key?: string): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString(key && ID_KEYS.has(key) ? 'hex' : 'base64');
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = jsonBytes(value[i]);
    return value;
  }
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = jsonBytes(o[k], k);
    return o;
  }
  return value;
}

/**
 * Where a request's resources and events are, as paths of field numbers (any of a set at each level): counted
 * in the wire bytes before decoding, since a decoded message takes tens of times its bytes (an empty record is
 * two bytes on the wire and an object in memory).
 */
const PATHS: Record<OtlpSignal, { resources: number[][]; events: number[][] }> = {
  logs: { resources: [[1]], events: [[1], [2], [2]] },
  traces: { resources: [[1]], events: [[1], [2], [2]] },
  // ResourceMetrics.scopeMetrics.metrics.(gauge | sum | histogram | exponentialHistogram | summary).dataPoints
  metrics: { resources: [[1]], events: [[1], [2], [2], [5, 7, 9, 10, 11], [1]] },
};

class Malformed extends Error {}
const malformed = (what: string) => new Malformed(what);

function varint(b: Uint8Array, at: { p: number }, end: number): number {
  let v = 0;
  for (let shift = 0; shift < 64; shift += 7) {
    if (at.p >= end) throw malformed('truncated varint');
    const byte = b[at.p++]!;
    // lengths and tags above 2^53 are malformed anyway: keep the low bits exact, the high ones approximate
    v += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return v;
  }
  throw malformed('varint longer than 10 bytes');
}

/** How many length-delimited fields lie at the end of `path` in the message `b[start, end)`. */
function countAt(b: Uint8Array, start: number, end: number, path: number[][], depth = 0): number {
  let n = 0;
  const at = { p: start };
  while (at.p < end) {
    const tag = varint(b, at, end);
    const field = Math.floor(tag / 8);
    switch (tag % 8) {
      case 0:
        varint(b, at, end);
        break;
      case 1:
        at.p += 8;
        break;
      case 5:
        at.p += 4;
        break;
      case 2: {
        const len = varint(b, at, end);
        if (len > end - at.p) throw malformed('a field runs past its message');
        if (path[depth]!.includes(field)) n += depth + 1 === path.length ? 1 : countAt(b, at.p, at.p + len, path, depth + 1);
        at.p += len;
        break;
      }
      default:
        throw malformed(`wire type ${tag % 8}`);
    }
    if (at.p > end) throw malformed('a field runs past its message');
  }
  return n;
}

/**
 * Refuses, from the wire bytes alone, a request with more resources or events than `limits` allow (413), or
 * whose outer messages are not protobuf (400).
 */
export function checkOtlpProtobufSize(signal: OtlpSignal, bytes: Uint8Array, limits: OtlpLimits = DEFAULT_OTLP_LIMITS): void {
  const count = (path: number[][]) => {
    try {
      return countAt(bytes, 0, bytes.length, path);
    } catch (err) {
      if (err instanceof Malformed) throw new HttpError(400, `OTLP: not a protobuf ${REQUESTS[signal].name}: ${err.message}`);
      throw err;
    }
  };
  const resources = count(PATHS[signal].resources);
  if (resources > limits.maxResources) throw new HttpError(413, `OTLP ${signal}: ${resources} resources in one request, more than ${limits.maxResources}`);
  const events = count(PATHS[signal].events);
  if (events > limits.maxEvents) throw new HttpError(413, `OTLP ${signal}: ${events} records in one request, more than ${limits.maxEvents}`);
}

export function decodeOtlpProtobuf(signal: OtlpSignal, bytes: Uint8Array, limits: OtlpLimits = DEFAULT_OTLP_LIMITS): unknown {
  checkOtlpProtobufSize(signal, bytes, limits);
  const type = REQUESTS[signal];
  let message: protobuf.Message;
  try {
    message = type.decode(bytes);
  } catch (err) {
    throw new HttpError(400, `OTLP: not a protobuf ${type.name}: ${(err as Error).message}`);
  }
  try {
    return jsonBytes(type.toObject(message, { longs: String, enums: Number, arrays: true }));
  } catch (err) {
    // nesting deep enough to exhaust the stack, say: the request's fault, not the server's
    throw new HttpError(400, `OTLP: not a protobuf ${type.name}: ${(err as Error).message}`);
  }
}
