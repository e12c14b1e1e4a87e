/**
 * A query result sent as the engine produces it: one record batch at a time becomes DataRows while DuckDB
 * computes the next, so the first rows leave before the last are made and memory holds one batch whatever
 * the result's size (two batches: one being sent, the next being made). The first batch is read when the stream opens, so Describe can report the columns'
 * types (and an empty result still has them, from the schema). A stream holds a query slot until it is
 * read to the end or closed: the session closes it with its portal.
 *
 * @example
 *   const rows = await openRowStream(await engine.stream(sql, range), names);
 *   for (let chunk = await rows.next(); chunk; chunk = await rows.next()) send(chunk);
 *   await rows.close();
 */
import { Table, type RecordBatch } from 'apache-arrow';
import { QueryError } from '../../analytics/query-error.js';
import type { QueryStream } from '../../analytics/query-stream.js';
import { arrowRows, type RowSource } from './row-source.js';
import { StatementError } from './statement-runner.js';
import { sqlStateFor } from './sqlstate.js';
import type { PgType } from './pg-types.js';
import type { WireFormat } from './value-format.js';

export interface RowStream {
  columns: { name: string; type: PgType }[];
  /** the columns as RowDescription announces them for these formats (binary falls back to text for some types) */
  describe(formats: readonly WireFormat[]): { name: string; type: PgType; format: WireFormat }[];
  /** the next rows, undefined at the end; a failure of the query rejects with a StatementError */
  next(): Promise<RowSource | undefined>;
  /** rows handed out so far */
  readonly rows: number;
  /** stops the query if it still runs; safe to call more than once */
  close(): Promise<void>;
}

export async function openRowStream(stream: QueryStream, names?: readonly string[]): Promise<RowStream> {
  const useNames = names?.length === stream.schema.fields.length ? names : undefined;
  const rowsOf = (b: Parameters<typeof arrowRows>[0]) => arrowRows(b, stream.sqlTypes, useNames);
  let first: RowSource | undefined;
  let handed = 0;
  // one batch read ahead: DuckDB computes the next while the session encodes and sends this one
  let ahead: Promise<RecordBatch | undefined> | undefined;
  const fetchNext = (): Promise<RecordBatch | undefined> => {
    const p = stream.next();
    p.catch(() => undefined); // observed by read(); not an unhandled rejection meanwhile
    return p;
  };
  const read = async (): Promise<RowSource | undefined> => {
    try {
      const batch = await (ahead ?? fetchNext());
      ahead = batch === undefined ? undefined : fetchNext();
      if (batch === undefined) return undefined;
      handed += batch.numRows;
      return rowsOf(batch);
    } catch (err) {
      ahead = undefined;
      await stream.close();
      if (err instanceof QueryError) throw new StatementError(sqlStateFor(err), err.message);
      throw err;
    }
  };
  first = await read();
  const shape = first ?? rowsOf(new Table(stream.schema));
  return {
    columns: shape.columns,
    describe: (formats) => shape.encoders(formats).map((e, i) => ({ name: shape.columns[i]!.name, type: e.type, format: e.format })),
    async next() {
      if (first !== undefined) {
        const f = first;
        first = undefined;
        return f;
      }
      return read();
    },
    get rows() {
      return handed;
    },
    close: () => stream.close(),
  };
}
