/**
 * Test support: the official OpenTelemetry JS SDKs and OTLP/HTTP exporters (protobuf or JSON, gzip or not)
 * pointed at a Sirius server, each export's result recorded so a test can tell "sent and accepted" from
 * "dropped": the SDKs report a failed export to a global error handler, never to the caller.
 */
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { LoggerProvider, BatchLogRecordProcessor, type LogRecordExporter, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { MeterProvider, MetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';

export type Format = 'protobuf' | 'json';
export type Compression = 'gzip' | 'none';

export interface ExporterTarget {
  /** e.g. `http://127.0.0.1:9000/v1` or `…/ingestion/otlp/v1` */
  base: string;
  format: Format;
  compression: Compression;
  headers?: Record<string, string>;
}

/** every export's outcome: `0` success, anything else a failure with its error */
export interface ExportLog {
  results: { code: number; error?: Error }[];
}

function recorded<T extends { export(items: never, cb: (r: { code: number; error?: Error }) => void): void }>(exporter: T, log: ExportLog): T {
  const inner = exporter.export.bind(exporter) as (items: unknown, cb: (r: { code: number; error?: Error }) => void) => void;
  (exporter as { export: unknown }).export = (items: unknown, cb: (r: { code: number; error?: Error }) => void) =>
    inner(items, (r) => {
      log.results.push(r);
      cb(r);
    });
  return exporter;
}

const config = (t: ExporterTarget, signal: string) => ({ url: `${t.base}/${signal}`, compression: t.compression as never, headers: t.headers ?? {} });

export function spanExporter(t: ExporterTarget, log: ExportLog): SpanExporter {
  const e = t.format === 'protobuf' ? new ProtoTraceExporter(config(t, 'traces')) : new JsonTraceExporter(config(t, 'traces'));
  return recorded(e, log);
}

export function logExporter(t: ExporterTarget, log: ExportLog): LogRecordExporter {
  const e = t.format === 'protobuf' ? new ProtoLogExporter(config(t, 'logs')) : new JsonLogExporter(config(t, 'logs'));
  return recorded(e, log);
}

export function metricExporter(t: ExporterTarget, log: ExportLog): PushMetricExporter {
  const e = t.format === 'protobuf' ? new ProtoMetricExporter(config(t, 'metrics')) : new JsonMetricExporter(config(t, 'metrics'));
  return recorded(e, log);
}

export const resource = (service: string, instance = `${service}-1`) =>
  resourceFromAttributes({ 'service.name': service, 'service.instance.id': instance, 'host.name': 'test-host' });

export function tracerProvider(service: string, exporter: SpanExporter, instance?: string): BasicTracerProvider {
  // a batch bigger than the test's spans: how far one export's bytes go is the exporter's business
  return new BasicTracerProvider({ resource: resource(service, instance), spanProcessors: [new BatchSpanProcessor(exporter, { maxExportBatchSize: 64, scheduledDelayMillis: 60_000 })] });
}

export function loggerProvider(service: string, exporter: LogRecordExporter): LoggerProvider {
  return new LoggerProvider({ resource: resource(service), processors: [new BatchLogRecordProcessor({ exporter, maxExportBatchSize: 64, scheduledDelayMillis: 60_000 })] });
}

/**
 * A reader that exports only when told: cumulative points collected twice are two observations, so a
 * periodic reader's final export at shutdown would send every point again.
 */
export class OnDemandReader extends MetricReader {
  constructor(private readonly exporter: PushMetricExporter) {
    super({ aggregationTemporalitySelector: (t) => exporter.selectAggregationTemporality?.(t) ?? 1 });
  }
  async exportOnce(): Promise<void> {
    const { resourceMetrics, errors } = await this.collect();
    if (errors.length) throw errors[0];
    await new Promise<void>((resolve) => this.exporter.export(resourceMetrics, () => resolve()));
  }
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {
    await this.exporter.shutdown();
  }
}

export function meterProvider(service: string, reader: MetricReader): MeterProvider {
  return new MeterProvider({ resource: resource(service), readers: [reader] });
}

export type { ReadableSpan, ReadableLogRecord };
