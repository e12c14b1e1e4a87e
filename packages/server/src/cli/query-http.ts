/**
 * The one HTTP call `sirius query` makes: `POST /api/query`, asking for JSON (for table, CSV and JSON output)
 * or for the Arrow IPC stream (passed through as bytes). No Arrow decoding, so the CLI does not load
 * `apache-arrow`; errors are read the way `@sirius/client` reads them.
 *
 * @example
 *   const r = await postQuery('http://127.0.0.1:9000', { sql: 'SELECT 1', begin: '1h', end: 'now' }, 'json');
 */

export const ARROW_STREAM = 'application/vnd.apache.arrow.stream';

export interface QueryRequest {
  sql: string;
  begin: string;
  end: string;
}

/** the server's JSON answer, its rows left as text (`[{…},…]`, written by the server's own JSON rules) */
export interface JsonAnswer {
  columns: Array<{ name: string; type: string }>;
  rowsText: string;
}

/** The server refused the query (bad SQL, bad range, a missing key…). */
export class QueryRefused extends Error {
  override readonly name = 'QueryRefused';
  constructor(message: string, readonly status: number, readonly position?: number) {
    super(message);
  }
}

/** The server could not be reached, or answered something that is not a query result. */
export class Unreachable extends Error {
  override readonly name = 'Unreachable';
}

export async function postQuery(url: string, body: QueryRequest, format: 'json', apiKey?: string): Promise<JsonAnswer>;
export async function postQuery(url: string, body: QueryRequest, format: 'arrow', apiKey?: string): Promise<Uint8Array>;
export async function postQuery(url: string, body: QueryRequest, format: 'json' | 'arrow', apiKey?: string): Promise<JsonAnswer | Uint8Array> {
  const base = url.replace(/\/+$/, '');
  const accept = format === 'arrow' ? ARROW_STREAM : 'application/json';
  const headers: Record<string, string> = { 'content-type': 'application/json', accept };
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  let res: Response;
  try {
    res = await fetch(`${base}/api/query`, { method: 'POST', headers, body: JSON.stringify(body) });
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    throw new Unreachable(`cannot reach the Sirius server at ${base}: ${(err as Error).message}${cause ? ` (${cause})` : ''}`);
  }
  if (!res.ok) throw await refusal(res);
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith(accept)) throw new Unreachable(`expected ${accept} from ${base}/api/query, got "${type || 'no content type'}"`);
  if (format === 'arrow') return new Uint8Array(await res.arrayBuffer());
  return splitAnswer(await res.text(), base);
}

/**
 * `{"columns":[…],"rows":[…],"stats":{…}}` → columns and the rows' text. The markers cannot occur inside a
 * JSON string (its quotes would be escaped), so the first `,"rows":` and the last `,"stats":` are the top-level keys.
 */
function splitAnswer(text: string, base: string): JsonAnswer {
  const rowsAt = text.indexOf(',"rows":');
  const statsAt = text.lastIndexOf(',"stats":');
  if (!text.startsWith('{"columns":') || rowsAt < 0 || statsAt < rowsAt) throw new Unreachable(`unexpected answer from ${base}/api/query`);
  const columns = JSON.parse(text.slice('{"columns":'.length, rowsAt)) as JsonAnswer['columns'];
  return { columns, rowsText: text.slice(rowsAt + ',"rows":'.length, statsAt) };
}

async function refusal(res: Response): Promise<Error> {
  const text = await res.text().catch(() => '');
  let body: { error?: unknown; position?: unknown } | undefined;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = undefined;
  }
  if (body && typeof body.error === 'string') {
    return new QueryRefused(body.error, res.status, typeof body.position === 'number' ? body.position : undefined);
  }
  return new Unreachable(`HTTP ${res.status} from the Sirius server: ${text.slice(0, 300) || res.statusText}`);
}
