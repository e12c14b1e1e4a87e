/**
 * The global `otel_spans` view: every OpenTelemetry span received over OTLP, one row each, materialized by the
 * daemon from the blocks of `otel_spans` streams (otel-span-record.ts) like `log_entries` is from `log`
 * streams. Spans of one trace sent by several services are rows of several processes sharing a `trace_id`, so
 * "show me trace X" is one query across services:
 *
 * @example
 *   SELECT exe, span_id, parent_span_id, name, begin, duration FROM otel_spans
 *   WHERE trace_id = '5b8efff798038103d269b633813fc60c' ORDER BY begin
 */
import type { TransitColumns } from '@sirius/transit';
import { eventTime } from './block-rows.js';
import type { ColumnSpec, RowBatch } from './row-batch.js';
import type { SourceBlock } from './source-blocks.js';
import { logEntriesColumns } from './view-columns.js';
import { OTEL_SPANS_TAG, type OtelSpanRecord } from './otel-span-record.js';
import type { BlockViewDefinition } from './view-definitions.js';

const MAP = 'MAP(VARCHAR, VARCHAR)';
/** instants are typed as `log_entries.time` is, whatever that is */
const INSTANT = logEntriesColumns.find((c) => c.name === 'time')!.type;

export const otelSpansColumns: readonly ColumnSpec[] = [
  { name: 'process_id', type: 'VARCHAR' },
  { name: 'stream_id', type: 'VARCHAR' },
  { name: 'block_id', type: 'VARCHAR' },
  { name: 'insert_time', type: INSTANT },
  { name: 'exe', type: 'VARCHAR' },
  { name: 'username', type: 'VARCHAR' },
  { name: 'computer', type: 'VARCHAR' },
  /** the span's start, as `begin`: the column time ranges prune on */
  { name: 'time', type: INSTANT },
  /** the instrumentation scope */
  { name: 'target', type: 'VARCHAR' },
  { name: 'service_name', type: 'VARCHAR' },
  { name: 'trace_id', type: 'VARCHAR' },
  { name: 'span_id', type: 'VARCHAR' },
  { name: 'parent_span_id', type: 'VARCHAR' },
  { name: 'name', type: 'VARCHAR' },
  { name: 'kind', type: 'VARCHAR' },
  { name: 'status_code', type: 'VARCHAR' },
  { name: 'status_message', type: 'VARCHAR' },
  { name: 'begin', type: INSTANT },
  { name: 'end', type: INSTANT },
  /** nanoseconds */
  { name: 'duration', type: 'BIGINT' },
  { name: 'attributes', type: MAP },
  /** JSON: [{ "time": ns, "name", "attributes": {…} }] */
  { name: 'events', type: 'VARCHAR' },
  /** JSON: [{ "trace_id", "span_id", "trace_state", "attributes": {…} }] */
  { name: 'links', type: 'VARCHAR' },
  { name: 'trace_state', type: 'VARCHAR' },
  { name: 'process_properties', type: MAP },
];

const utf8 = new TextDecoder();

export function otelSpansRows(blocks: readonly SourceBlock[], decoded: readonly (TransitColumns | null)[]): RowBatch {
  const v: unknown[][] = otelSpansColumns.map(() => []);
  let n = 0;
  blocks.forEach((b, bi) => {
    const d = decoded[bi];
    if (!d) return;
    const { tables, logs } = d;
    const strings = tables.strings;
    const procProps = Object.keys(b.process_properties).length ? b.process_properties : null;
    const service = b.process_properties['service.name'] ?? b.exe;
    for (let i = 0; i < logs.count; i++) {
      let r: OtelSpanRecord;
      try {
        r = JSON.parse(utf8.decode(logs.msgData.subarray(logs.msgOffsets[i]!, logs.msgOffsets[i + 1]!))) as OtelSpanRecord;
      } catch {
        continue; // not written by OTLP ingestion: an otel_spans stream only it should feed
      }
      const begin = eventTime(b, logs.ticks[i]!);
      const end = BigInt(r.end);
      let attrs: Record<string, string> | null = null;
      for (let k = logs.propOffsets[i]!; k < logs.propOffsets[i + 1]!; k++) (attrs ??= {})[strings[logs.propKeys[k]!]!] = strings[logs.propValues[k]!]!;
      const row = [
        b.process_id, b.stream_id, b.block_id, b.insert_time, b.exe, b.username, b.computer, begin, strings[logs.target[i]!], service,
        r.trace_id, r.span_id, r.parent_span_id, r.name, r.kind, r.status_code, r.status_message, begin, end, end - begin,
        attrs, JSON.stringify(r.events ?? []), JSON.stringify(r.links ?? []), r.trace_state ?? '', procProps,
      ];
      for (let c = 0; c < row.length; c++) v[c]!.push(row[c]);
      n++;
    }
  });
  return { columns: otelSpansColumns, values: v, length: n };
}

export const otelSpansView: BlockViewDefinition = {
  kind: 'blocks',
  name: 'otel_spans',
  tag: OTEL_SPANS_TAG,
  columns: otelSpansColumns,
  timeColumn: 'time',
  rows: otelSpansRows,
};
