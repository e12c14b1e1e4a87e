/**
 * How an OpenTelemetry span travels from OTLP ingestion to the `otel_spans` view. Blocks of a stream tagged
 * `otel_spans` hold one log event per span: its ticks are the span's start, its target the instrumentation
 * scope, its properties the span's attributes, and its message this record as JSON (everything else a span
 * carries). A log event, because the block format already holds a time, a target, a text and a string map
 * compactly; the tag keeps these blocks out of `log_entries`.
 */

export const OTEL_SPANS_TAG = 'otel_spans';

export const SPAN_KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;
export const STATUS_CODES = ['unset', 'ok', 'error'] as const;

export interface OtelSpanEvent {
  /** ns since the epoch, as a decimal string */
  time: string;
  name: string;
  attributes: Record<string, string>;
}

export interface OtelSpanLink {
  trace_id: string;
  span_id: string;
  trace_state: string;
  attributes: Record<string, string>;
}

export interface OtelSpanRecord {
  name: string;
  /** 32 lowercase hex digits ('' when the exporter sent none) */
  trace_id: string;
  /** 16 lowercase hex digits */
  span_id: string;
  /** '' for a root span */
  parent_span_id: string;
  trace_state: string;
  kind: (typeof SPAN_KINDS)[number];
  status_code: (typeof STATUS_CODES)[number];
  status_message: string;
  /** the span's end, ns since the epoch, as a decimal string */
  end: string;
  events: OtelSpanEvent[];
  links: OtelSpanLink[];
}
