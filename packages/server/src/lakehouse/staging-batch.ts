/**
 * A `RowBatch` that can also stage itself as columns. Block views hand `writeParquet` such batches: the
 * writer takes the staged columns (no per-value JS objects), while any other reader of `values` (JIT
 * segment filtering) still gets ordinary rows, built on first access.
 *
 * @example
 *   const batch = stagedBatch(logEntriesColumns, () => rowsOf(blocks), () => stagedLogEntries(blocks, decoded));
 *   stagingOf(batch)?.(); // the staged columns
 */
import type { ColumnSpec, RowBatch } from './row-batch.js';
import type { StagedRows } from './staging-block-columns.js';

const STAGE = Symbol('stage');

interface StageableBatch extends RowBatch {
  [STAGE]: () => StagedRows;
}

export function stagedBatch(columns: readonly ColumnSpec[], length: number, rows: () => unknown[][], stage: () => StagedRows): RowBatch {
  let values: unknown[][] | undefined;
  const batch = {
    columns,
    length,
    [STAGE]: stage as (() => StagedRows) | undefined,
    get values(): unknown[][] {
      values ??= rows();
      return values;
    },
    set values(v: unknown[][]) {
      // rows replaced by hand: the staged columns no longer describe them
      values = v;
      batch[STAGE] = undefined;
    },
  };
  return batch;
}

/** The batch's column stager, when it has one and its rows were not replaced. */
export function stagingOf(batch: RowBatch): (() => StagedRows) | undefined {
  return (batch as Partial<StageableBatch>)[STAGE];
}
