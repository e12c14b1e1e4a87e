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
import { attributes, list, message, nanos, OtlpBatch, str, type ConvertOptions, type KeyValue, type SiriusData, UNTIMED } from './otlp-common.js';
import { HttpError } from './http-error.js';

interface DataPoint {
  timeUnixNano?: string | number;
  asInt?: string | number;
  asDouble?: number;
  count?: string | number;
  sum?: number;
  attributes?: KeyValue[];
}

interface Metric {
  name?: string;
  unit?: string;
  gauge?: { dataPoints?: DataPoint[] };
  sum?: { dataPoints?: DataPoint[] };
  histogram?: { dataPoints?: DataPoint[] };
  exponentialHistogram?: { dataPoints?: DataPoint[] };
  summary?: { dataPoints?: DataPoint[] };
}

interface ResourceMetrics {
  resource?: { attributes?: KeyValue[] };
  scopeMetrics?: { scope?: { name?: string }; metrics?: Metric[] }[];
}

interface Point {
  t: bigint;
  name: string;
  unit: string;
  target: string;
  value: bigint | number;
  props: Properties | null;
}

const MIN_I64 = -0x8000000000000000n;
const MAX_I64 = 0x7fffffffffffffffn;

function integer(v: unknown, what: string): bigint {
  const ok = typeof v === 'number' ? Number.isSafeInteger(v) : typeof v === 'string' && /^-?\d{1,20}$/.test(v) && BigInt(v) >= MIN_I64 && BigInt(v) <= MAX_I64;
  if (!ok) throw new HttpError(400, `OTLP: bad ${what} ${JSON.stringify(v)}`);
  return BigInt(v as string | number);
}

/** the data points of one of a metric's kinds */
function points(m: Partial<Metric>, kind: keyof Metric): Partial<DataPoint>[] {
  return list<unknown>(message<{ dataPoints: unknown }>(m[kind], kind).dataPoints, `${kind}.dataPoints`).map((p) => message<DataPoint>(p, 'a data point'));
}

/** Converts an OTLP JSON metrics export; throws HttpError(400 or 413) on what is not one or is too large. */
export function otlpMetricsToSirius(body: unknown, opts: ConvertOptions = {}): SiriusData {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { resourceMetrics?: unknown }).resourceMetrics)) {
    throw new HttpError(400, 'OTLP: expected an ExportMetricsServiceRequest in JSON ({"resourceMetrics": [...]})');
  }
  const resources = (body as { resourceMetrics: unknown[] }).resourceMetrics;
  const batch = new OtlpBatch<Point>('metrics', { kind: 'metrics' }, body, resources.length, opts);
  for (const item of resources) {
    const rm = message<ResourceMetrics>(item, 'a ResourceMetrics');
    const resource = attributes(message<{ attributes: unknown }>(rm.resource, 'resource').attributes);
    const out: Point[] = [];
    const push = (p: Point) => {
      batch.count(1);
      out.push(p);
    };
    for (const smItem of list(rm.scopeMetrics, 'scopeMetrics')) {
      const sm = message<{ scope: unknown; metrics: unknown }>(smItem, 'a ScopeMetrics');
      const target = str(message<{ name: unknown }>(sm.scope, 'scope').name, 'scope.name') || 'otlp';
      for (const mItem of list(sm.metrics, 'metrics')) {
        const m = message<Metric>(mItem, 'a Metric');
        const name = str(m.name, 'metric name');
        const unit = str(m.unit, 'metric unit');
        const at = (p: Partial<DataPoint>) => {
          const props = attributes(p.attributes);
          return { t: nanos(p.timeUnixNano) ?? UNTIMED, target, props: Object.keys(props).length ? props : null };
        };
        for (const p of [...points(m, 'gauge'), ...points(m, 'sum')]) {
          if (p.asInt !== undefined && p.asInt !== null) push({ ...at(p), name, unit, value: integer(p.asInt, `asInt of ${name}`) });
          else if (typeof p.asDouble === 'number') push({ ...at(p), name, unit, value: p.asDouble });
        }
        for (const p of [...points(m, 'histogram'), ...points(m, 'exponentialHistogram'), ...points(m, 'summary')]) {
          if (p.count !== undefined && p.count !== null) push({ ...at(p), name: `${name}.count`, unit: 'count', value: integer(p.count, `count of ${name}`) });
          if (typeof p.sum === 'number') push({ ...at(p), name: `${name}.sum`, unit, value: p.sum });
        }
      }
    }
    batch.add(resource, out);
  }
  return batch.finish(
    () => 0,
    (enc, points, first) => {
      for (const p of points) {
        const ticks = Number(p.t - first);
        if (typeof p.value === 'bigint') enc.intMetric(ticks, p.name, p.unit, p.target, p.value, p.props);
        else enc.floatMetric(ticks, p.name, p.unit, p.target, p.value, p.props);
      }
    },
    (points) => points.length,
  );
}
