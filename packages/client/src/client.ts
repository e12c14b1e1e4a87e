/**
 * The query client: one POST per query to `/api/query`, answered as an Arrow IPC stream. Only `fetch` and
 * `apache-arrow`, so the same code runs in Node, the CLI and the browser.
 *
 * @example
 *   const sirius = connect('http://127.0.0.1:9000');
 *   const table = await sirius.query('SELECT level, count(*) AS n FROM log_entries GROUP BY level', '1h', 'now');
 *   for (const row of table) console.log(row.level, row.n);
 */
import { tableFromIPC, type Table } from 'apache-arrow';
import { ConnectionError, QueryError } from './errors.js';

export type TimeBound = Date | string;

export interface ConnectOptions {
  /** sent as `Authorization: Bearer <apiKey>` */
  apiKey?: string;
  /** a `fetch` to use instead of the global one */
  fetch?: typeof fetch;
}

/** What the server said about how it ran a query (the `X-Sirius-Query-Stats` header). */
export interface QueryStats {
  /** Parquet files the query read (object keys or local paths; may be cut short in the header) */
  files?: string[];
  filesRead?: number;
  rows?: number;
  elapsedMs?: number;
  [key: string]: unknown;
}

export interface QueryResult {
  table: Table;
  stats: QueryStats | undefined;
}

export interface SiriusClient {
  /** Runs `sql` over [begin, end). Bounds: Date, ISO-8601 string, `now`, or a duration back such as `1h`. */
  query(sql: string, begin: TimeBound, end?: TimeBound, opts?: { signal?: AbortSignal }): Promise<Table>;
  /** `query`, plus the server's statistics for the run */
  queryWithStats(sql: string, begin: TimeBound, end?: TimeBound, opts?: { signal?: AbortSignal }): Promise<QueryResult>;
}

export const ARROW_STREAM = 'application/vnd.apache.arrow.stream';

export function connect(url: string, options: ConnectOptions = {}): SiriusClient {
  const base = url.replace(/\/+$/, '');
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const queryWithStats: SiriusClient['queryWithStats'] = async (sql, begin, end = 'now', opts = {}) => {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: ARROW_STREAM };
    if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
    let res: Response;
    try {
      res = await doFetch(`${base}/api/query`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ sql, begin: boundToString(begin), end: boundToString(end) }),
        signal: opts.signal,
      });
    } catch (err) {
      if ((err as Error)?.name === 'AbortError') throw err;
      throw new ConnectionError(`cannot reach the Sirius server at ${base}: ${(err as Error)?.message ?? err}`, { cause: err });
    }
    if (!res.ok) throw await errorFrom(res);
    const type = res.headers.get('content-type') ?? '';
    if (!type.startsWith(ARROW_STREAM)) {
      throw new ConnectionError(`expected an Arrow stream from ${base}/api/query, got "${type || 'no content type'}"`);
    }
    const table = tableFromIPC(new Uint8Array(await res.arrayBuffer()));
    return { table, stats: parseStats(res.headers.get('x-sirius-query-stats')) };
  };
  return {
    queryWithStats,
    async query(sql, begin, end, opts) {
      return (await queryWithStats(sql, begin, end, opts)).table;
    },
  };
}

function boundToString(bound: TimeBound): string {
  if (bound instanceof Date) {
    if (Number.isNaN(bound.getTime())) throw new QueryError('invalid Date given as a time bound', 0, undefined, 'bad_request');
    return bound.toISOString();
  }
  return bound;
}

async function errorFrom(res: Response): Promise<Error> {
  const text = await res.text().catch(() => '');
  let body: { error?: unknown; position?: unknown; code?: unknown } | undefined;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = undefined;
  }
  if (body && typeof body.error === 'string') {
    const position = typeof body.position === 'number' ? body.position : undefined;
    const code = typeof body.code === 'string' ? body.code : undefined;
    return new QueryError(body.error, res.status, position, code);
  }
  return new ConnectionError(`HTTP ${res.status} from the Sirius server: ${text.slice(0, 300) || res.statusText}`);
}

function parseStats(header: string | null): QueryStats | undefined {
  if (!header) return undefined;
  try {
    return JSON.parse(header) as QueryStats;
  } catch {
    return undefined;
  }
}
