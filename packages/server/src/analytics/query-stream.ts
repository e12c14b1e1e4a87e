/**
 * A query result read batch by batch while the query runs. The engine runs the query inside its own
 * try/finally (sandbox, leases, slot); `openQueryStream` lets that run pause between batches until the
 * reader asks for the next one, so nothing is computed ahead of the reader (backpressure is the reader's
 * pace) and the query's resources are released when the reader reaches the end, closes, or fails.
 *
 * @example
 *   const stream = await engine.stream('SELECT * FROM log_entries', { begin: '1h', end: 'now' });
 *   try {
 *     for await (const batch of stream) send(batch);   // one batch in memory at a time
 *   } finally {
 *     await stream.close();
 *   }
 */
import type { RecordBatch, Schema } from 'apache-arrow';
import type { QueryStats } from './query-engine.js';

export interface QueryStream extends AsyncIterable<RecordBatch> {
  /** the result's Arrow schema, known before the first batch */
  readonly schema: Schema;
  /** DuckDB's SQL type of each column */
  readonly sqlTypes: string[];
  /** rows handed out so far */
  readonly rows: number;
  /** what the query read and how long it ran: set once the query has ended (read to the end or closed) */
  readonly stats: QueryStats | undefined;
  /** the next record batch, undefined at the end; a failure of the query rejects here */
  next(): Promise<RecordBatch | undefined>;
  /** stops the query (if still running) and releases what it holds; safe to call at any time, more than once */
  close(): Promise<void>;
}

/** What the running query offers the stream: its schema, and a way to read one more batch. */
export interface BatchSource {
  schema: Schema;
  sqlTypes: string[];
  read(): Promise<RecordBatch | undefined>;
}

/**
 * Called by the running query once it can produce batches; resolves when the reader is done with them
 * (end, close), throws when the query must stop (`signal` aborted while waiting for the reader).
 * `beforeRead` runs before each batch is read (the previous one has then left the engine's hands).
 */
export type ServeBatches = (source: BatchSource, signal: AbortSignal, beforeRead?: () => void) => Promise<number>;

/**
 * Starts `run`, which must call the `serve` it is given once (or fail before); resolves with the stream
 * when `serve` is called, rejects with `run`'s error when it fails first. `serve` resolves with the rows
 * handed out; what `run` resolves with becomes the stream's `stats`.
 */
export function openQueryStream(run: (serve: ServeBatches) => Promise<QueryStats | void>): Promise<QueryStream> {
  return new Promise<QueryStream>((resolveOpen, rejectOpen) => {
    let opened = false;
    let closed = false;
    let failure: unknown;
    let finished = false;
    let rows = 0;
    // the running query waits on `wake` for the reader's next request (true) or close (false)
    let wake: ((go: boolean) => void) | undefined;
    let pending: { resolve(b: RecordBatch | undefined): void; reject(e: unknown): void } | undefined;
    let delivered: ((b: RecordBatch | undefined) => void) | undefined;

    const serve: ServeBatches = async (source, signal, beforeRead) => {
      const waitForReader = () =>
        new Promise<boolean>((resolve, reject) => {
          if (closed) return resolve(false);
          if (pending) return resolve(true); // asked for before the query came back to wait
          const onAbort = () => reject(new Error('the query was stopped'));
          if (signal.aborted) return onAbort();
          signal.addEventListener('abort', onAbort, { once: true });
          wake = (go) => {
            signal.removeEventListener('abort', onAbort);
            wake = undefined;
            resolve(go);
          };
        });
      opened = true;
      resolveOpen(stream);
      for (;;) {
        if (!(await waitForReader())) return rows;
        beforeRead?.();
        const batch = await source.read();
        if (batch) rows += batch.numRows;
        delivered?.(batch);
        if (!batch) return rows;
      }
    };

    let schema: Schema | undefined;
    let stats: QueryStats | undefined;
    let sqlTypes: string[] = [];
    const done = run(async (source, signal, beforeRead) => {
      schema = source.schema;
      sqlTypes = source.sqlTypes;
      return serve(source, signal, beforeRead);
    }).then(
      (s) => {
        if (s) stats = s;
        finished = true;
        pending?.resolve(undefined);
        pending = undefined;
      },
      (err: unknown) => {
        finished = true;
        failure = err;
        if (!opened) rejectOpen(err);
        pending?.reject(err);
        pending = undefined;
      },
    );

    const stream: QueryStream = {
      get schema() {
        return schema!;
      },
      get sqlTypes() {
        return sqlTypes;
      },
      get rows() {
        return rows;
      },
      get stats() {
        return stats;
      },
      next() {
        if (pending) return Promise.reject(new Error('next() called again before the previous batch arrived'));
        if (failure !== undefined) return Promise.reject(failure);
        if (closed || finished) return Promise.resolve(undefined);
        return new Promise<RecordBatch | undefined>((resolve, reject) => {
          pending = { resolve, reject };
          delivered = (b) => {
            delivered = undefined;
            const p = pending;
            pending = undefined;
            p?.resolve(b);
          };
          wake?.(true);
        });
      },
      async close() {
        closed = true;
        wake?.(false);
        await done;
      },
      async *[Symbol.asyncIterator]() {
        try {
          for (let b = await stream.next(); b; b = await stream.next()) yield b;
        } finally {
          await stream.close();
        }
      },
    };
  });
}
