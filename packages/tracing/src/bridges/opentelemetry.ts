/**
 * OpenTelemetry into Sirius without the OTLP exporter: register these processors on the SDK's providers and
 * every OTel API call (so every auto-instrumentation) is recorded by this library, at its cost.
 *
 * - {@link SiriusSpanProcessor}: an OTel span becomes a Sirius **async span** (begin at `onStart`, end at
 *   `onEnd`, on the calling thread's `cpu` stream): OTel spans overlap and end in any order across awaits,
 *   which thread spans (a strict call stack per thread) cannot represent. Name → name, instrumentation scope →
 *   target (`otel` without one), parent → the parent's Sirius span id when the parent is open in this process
 *   (else 0: a remote parent). Async span events carry no attributes, so by default each ended span also
 *   records one log (target the scope, message the span name; level 2 when its status is ERROR, else 5)
 *   whose properties are its attributes plus `trace_id`, `span_id` (OTel's, hex), `sirius_span_id` (to join
 *   with `async_events.span_id`), `span_kind` and `status_message`. `{ spanLogs: false }` turns that off.
 * - {@link SiriusLogRecordProcessor}: an OTel log record becomes a Sirius log: `severityNumber` 1–24 →
 *   level 6 (trace) … 1 (fatal), else `severityText`, else info; body → message (non-string bodies as
 *   JSON); scope → target; attributes → properties, plus `trace_id`/`span_id` when emitted inside a span
 *   and `event_name` when set (the same mapping as the server's OTLP endpoint).
 *
 * Times are this library's clock when the processor is called (OTel calls both when the span starts and
 * ends, or when the record is emitted), not an explicit `startTime`/`endTime` passed to OTel.
 *
 * @example
 * import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
 * import { LoggerProvider } from '@opentelemetry/sdk-logs';
 * import { init } from '@sirius/tracing';
 * import { SiriusLogRecordProcessor, SiriusSpanProcessor } from '@sirius/tracing/opentelemetry';
 * init();
 * const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SiriusSpanProcessor()] });
 * const loggerProvider = new LoggerProvider({ processors: [new SiriusLogRecordProcessor()] });
 */
import type { Properties } from '@sirius/transit';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { LogRecordProcessor, SdkLogRecord } from '@opentelemetry/sdk-logs';
import { flush } from '../index.js';
import { beginAsync, endAsync, recordLog, type Level, type OpenAsyncSpan } from './record.js';
import { propertyValue } from './properties.js';

const SPAN_KINDS = ['internal', 'server', 'client', 'producer', 'consumer'];
const STATUS_ERROR = 2;
const SEVERITY_WORDS: Record<string, Level> = { fatal: 1, critical: 1, error: 2, warn: 3, warning: 3, info: 4, debug: 5, trace: 6 };

/** OTel severity number (1–24) or text → Sirius level */
export function otelLevel(severityNumber: number | undefined, severityText: string | undefined): Level {
  if (typeof severityNumber === 'number' && severityNumber >= 1 && severityNumber <= 24) {
    return (6 - Math.floor((severityNumber - 1) / 4)) as Level;
  }
  return (severityText === undefined ? undefined : SEVERITY_WORDS[severityText.toLowerCase()]) ?? 4;
}

function scopeTarget(scope: { name?: string } | undefined): string {
  return scope?.name || 'otel';
}

function addAttributes(into: Properties, attributes: Record<string, unknown> | undefined): void {
  if (attributes === undefined) return;
  for (const k in attributes) {
    const v = propertyValue(attributes[k]);
    if (v !== undefined) into[k] = v;
  }
}

export interface SiriusSpanProcessorOptions {
  /** record one log per ended span with its attributes (default true) */
  spanLogs?: boolean;
}

/** Records OTel spans as Sirius async spans; see the module comment. */
export class SiriusSpanProcessor implements SpanProcessor {
  /** spans started and not yet ended, by OTel span id */
  private readonly open = new Map<string, OpenAsyncSpan>();
  private readonly spanLogs: boolean;

  constructor(options: SiriusSpanProcessorOptions = {}) {
    this.spanLogs = options.spanLogs ?? true;
  }

  onStart(span: Span): void {
    // SDK 2.x: parentSpanContext; 1.x: parentSpanId
    const s = span as Span & { parentSpanId?: string };
    const parentOtel = s.parentSpanContext?.spanId ?? s.parentSpanId;
    const parent = parentOtel === undefined ? 0 : this.open.get(parentOtel)?.id ?? 0;
    this.open.set(span.spanContext().spanId, beginAsync(span.name, scopeTarget(span.instrumentationScope), parent));
  }

  onEnd(span: ReadableSpan): void {
    const ctx = span.spanContext();
    const s = this.open.get(ctx.spanId);
    if (s === undefined) return; // started before this processor was registered
    this.open.delete(ctx.spanId);
    endAsync(s);
    if (!this.spanLogs) return;
    const props: Properties = {};
    addAttributes(props, span.attributes);
    props.trace_id = ctx.traceId;
    props.span_id = ctx.spanId;
    props.sirius_span_id = String(s.id);
    props.span_kind = SPAN_KINDS[span.kind] ?? String(span.kind);
    if (span.status.message) props.status_message = span.status.message;
    recordLog(span.status.code === STATUS_ERROR ? 2 : 5, scopeTarget(span.instrumentationScope), span.name, props);
  }

  async forceFlush(): Promise<void> {
    await flush();
  }

  async shutdown(): Promise<void> {
    await flush();
  }
}

/** Records OTel log records as Sirius logs; see the module comment. */
export class SiriusLogRecordProcessor implements LogRecordProcessor {
  onEmit(r: SdkLogRecord): void {
    let props: Properties | null = null;
    const attrs = r.attributes as Record<string, unknown> | undefined;
    if (attrs !== undefined) for (const _ in attrs) { props = {}; addAttributes(props, attrs); break; }
    const ctx = r.spanContext;
    if (ctx !== undefined) {
      props ??= {};
      props.trace_id = ctx.traceId;
      props.span_id = ctx.spanId;
    }
    if (r.eventName) (props ??= {}).event_name = r.eventName;
    const body = r.body;
    const msg = typeof body === 'string' ? body : body === undefined || body === null ? '' : propertyValue(body) ?? '';
    recordLog(otelLevel(r.severityNumber, r.severityText), scopeTarget(r.instrumentationScope), msg, props);
  }

  async forceFlush(): Promise<void> {
    await flush();
  }

  async shutdown(): Promise<void> {
    await flush();
  }
}
