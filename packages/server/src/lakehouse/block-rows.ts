/**
 * Turns decoded blocks into `log_entries` and `measures` rows. Event time is the block's begin time plus the
 * event's ticks converted with the process clock rate; the per-block columns repeat the block and process
 * identity so each row stands alone in Parquet (dictionary encoding makes the repetition nearly free).
 *
 * The batches are lazy: `writeParquet` stages them straight from the typed arrays
 * (`staging-block-columns.ts`), and the row arrays below are only built if someone reads `values`.
 */
import type { LogColumns, TransitColumns } from '@sirius/transit';

type PropertyColumns = Pick<LogColumns, 'propOffsets' | 'propKeys' | 'propValues'>;
import { logEntriesColumns, measuresColumns } from './view-columns.js';
import type { RowBatch } from './row-batch.js';
import { stagedBatch } from './staging-batch.js';
import { stagedLogEntries, stagedMeasures } from './staging-block-columns.js';
import type { SourceBlock } from './source-blocks.js';

const utf8 = new TextDecoder();

/** Nanoseconds since the epoch of an event `ticks` after the block began. */
export function eventTime(b: SourceBlock, ticks: number): bigint {
  return b.begin_time + BigInt(Math.round((ticks * 1e9) / b.tsc_frequency));
}

function propsOf(c: PropertyColumns, strings: string[], i: number): Record<string, string> | null {
  const from = c.propOffsets[i]!;
  const to = c.propOffsets[i + 1]!;
  if (from === to) return null;
  const out: Record<string, string> = {};
  for (let k = from; k < to; k++) out[strings[c.propKeys[k]!]!] = strings[c.propValues[k]!]!;
  return out;
}

function emptyColumns(n: number): unknown[][] {
  return Array.from({ length: n }, () => []);
}

function pushBlockColumns(v: unknown[][], b: SourceBlock): void {
  v[0]!.push(b.process_id);
  v[1]!.push(b.stream_id);
  v[2]!.push(b.block_id);
  v[3]!.push(b.insert_time);
  v[4]!.push(b.exe);
  v[5]!.push(b.username);
  v[6]!.push(b.computer);
}

export function logEntriesRows(blocks: readonly SourceBlock[], decoded: readonly (TransitColumns | null)[]): RowBatch {
  let n = 0;
  for (const d of decoded) if (d) n += d.logs.count;
  return stagedBatch(logEntriesColumns, n, () => logEntriesValues(blocks, decoded).values, () => stagedLogEntries(blocks, decoded));
}

export function measuresRows(blocks: readonly SourceBlock[], decoded: readonly (TransitColumns | null)[]): RowBatch {
  let n = 0;
  for (const d of decoded) if (d) n += d.intMetrics.count + d.floatMetrics.count;
  return stagedBatch(measuresColumns, n, () => measuresValues(blocks, decoded).values, () => stagedMeasures(blocks, decoded));
}

/** The rows as value arrays (the `RowBatch` conventions), for readers other than the Parquet writer. */
export function logEntriesValues(blocks: readonly SourceBlock[], decoded: readonly (TransitColumns | null)[]): RowBatch {
  const v = emptyColumns(logEntriesColumns.length);
  let n = 0;
  blocks.forEach((b, bi) => {
    const d = decoded[bi];
    if (!d) return;
    const { tables, logs } = d;
    const procProps = Object.keys(b.process_properties).length ? b.process_properties : null;
    for (let i = 0; i < logs.count; i++) {
      pushBlockColumns(v, b);
      v[7]!.push(eventTime(b, logs.ticks[i]!));
      v[8]!.push(tables.strings[logs.target[i]!]);
      v[9]!.push(logs.level[i]);
      v[10]!.push(utf8.decode(logs.msgData.subarray(logs.msgOffsets[i]!, logs.msgOffsets[i + 1]!)));
      v[11]!.push(propsOf(logs, tables.strings, i));
      v[12]!.push(procProps);
      n++;
    }
  });
  return { columns: logEntriesColumns, values: v, length: n };
}

export function measuresValues(blocks: readonly SourceBlock[], decoded: readonly (TransitColumns | null)[]): RowBatch {
  const v = emptyColumns(measuresColumns.length);
  let n = 0;
  blocks.forEach((b, bi) => {
    const d = decoded[bi];
    if (!d) return;
    const { tables, intMetrics, floatMetrics } = d;
    const procProps = Object.keys(b.process_properties).length ? b.process_properties : null;
    const s = tables.strings;
    for (const m of [intMetrics, floatMetrics]) {
      for (let i = 0; i < m.count; i++) {
        pushBlockColumns(v, b);
        v[7]!.push(eventTime(b, m.ticks[i]!));
        v[8]!.push(s[m.target[i]!]);
        v[9]!.push(s[m.name[i]!]);
        v[10]!.push(s[m.unit[i]!]);
        v[11]!.push(Number(m.value[i]!));
        v[12]!.push(propsOf(m, s, i));
        v[13]!.push(procProps);
        n++;
      }
    }
  });
  return { columns: measuresColumns, values: v, length: n };
}
