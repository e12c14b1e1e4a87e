/**
 * OpenTelemetry metrics (OTLP/HTTP `POST /v1/metrics`, JSON or protobuf) as Sirius measures: each
 * resource's process (otlp-common.ts) gets one `metrics` stream, and every data point of a gauge or a sum becomes a measure
 * (the metric's name and unit, the scope's name as target, the point's attributes as properties; `asInt` as an
 * integer measure, `asDouble` as a float one). A histogram or summary point becomes its count and sum
 * (`<name>.count`, `<name>.sum`), which is what `measures` can hold of it.
 *
 * @example
 *   const { processes, streams, blocks } = otlpMetricsToSirius(JSON.parse(body));
 */
import type { Properties } from '@sirius/transit';
import { addResourceBlock, attributes, nanos, type KeyValue, type SiriusData } from './otlp-common.js';
import { HttpError } from './http-error.js';

interface NumberPoint {
  timeUnixNano?: string | number;
  asInt?: string | number;
  asDouble?: number;
  attributes?: KeyValue[];
}

interface CountSumPoint {
  timeUnixNano?: string | number;
  count?: string | number;
  sum?: number;
  attributes?: KeyValue[];
}

interface Metric {
  name?: string;
  unit?: string;
  gauge?: { dataPoints?: NumberPoint[] };
  sum?: { dataPoints?: NumberPoint[] };
  histogram?: { dataPoints?: CountSumPoint[] };
  exponentialHistogram?: { dataPoints?: CountSumPoint[] };
  summary?: { dataPoints?: CountSumPoint[] };
}

interface ExportMetricsServiceRequest {
  resourceMetrics?: { resource?: { attributes?: KeyValue[] }; scopeMetrics?: { scope?: { name?: string }; metrics?: Metric[] }[] }[];
}

interface Point {
  t: bigint;
  name: string;
  unit: string;
  target: string;
  value: bigint | number;
  props: Properties | null;
}

function integer(v: string | number, what: string): bigint {
  if (typeof v === 'number' ? !Number.isSafeInteger(v) : !/^-?\d{1,20}$/.test(v)) throw new HttpError(400, `OTLP: bad ${what} ${JSON.stringify(v)}`);
  return BigInt(v);
}

/** Converts an OTLP JSON metrics export; throws HttpError(400) on what is not one. */
export function otlpMetricsToSirius(body: unknown, now: () => bigint = () => BigInt(Date.now()) * 1_000_000n): SiriusData {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as ExportMetricsServiceRequest).resourceMetrics)) {
    throw new HttpError(400, 'OTLP: expected an ExportMetricsServiceRequest in JSON ({"resourceMetrics": [...]})');
  }
  const out: SiriusData = { processes: [], streams: [], blocks: [], records: 0 };
  for (const rm of (body as ExportMetricsServiceRequest).resourceMetrics!) {
    const resource = attributes(rm?.resource?.attributes);
    const points: Point[] = [];
    for (const sm of rm?.scopeMetrics ?? []) {
      const target = sm?.scope?.name || 'otlp';
      for (const m of sm?.metrics ?? []) {
        const name = m.name ?? '';
        const unit = m.unit ?? '';
        const at = (p: { timeUnixNano?: string | number; attributes?: KeyValue[] }) => {
          const props = attributes(p.attributes);
          return { t: nanos(p.timeUnixNano) ?? now(), target, props: Object.keys(props).length ? props : null };
        };
        for (const p of [...(m.gauge?.dataPoints ?? []), ...(m.sum?.dataPoints ?? [])]) {
          if (p.asInt !== undefined) points.push({ ...at(p), name, unit, value: integer(p.asInt, `asInt of ${name}`) });
          else if (typeof p.asDouble === 'number') points.push({ ...at(p), name, unit, value: p.asDouble });
        }
        for (const p of [...(m.histogram?.dataPoints ?? []), ...(m.exponentialHistogram?.dataPoints ?? []), ...(m.summary?.dataPoints ?? [])]) {
          if (p.count !== undefined) points.push({ ...at(p), name: `${name}.count`, unit: 'count', value: integer(p.count, `count of ${name}`) });
          if (typeof p.sum === 'number') points.push({ ...at(p), name: `${name}.sum`, unit, value: p.sum });
        }
      }
    }
    if (points.length === 0) continue;
    points.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
    const first = points[0]!.t;
    const last = points[points.length - 1]!.t;
    addResourceBlock(out, resource, { kind: 'metrics' }, first, last, points.length, (enc) => {
      for (const p of points) {
        const ticks = Number(p.t - first);
        if (typeof p.value === 'bigint') enc.intMetric(ticks, p.name, p.unit, p.target, p.value, p.props);
        else enc.floatMetric(ticks, p.name, p.unit, p.target, p.value, p.props);
      }
    });
    out.records += points.length;
  }
  return out;
}
