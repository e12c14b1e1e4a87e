/**
 * What can go wrong with a query, as typed errors so callers can tell a mistake in their SQL (show the
 * position) from a server that is down (retry) without parsing messages.
 */

/** The server refused the query: bad SQL, a bad time range, or the time budget ran out. */
export class QueryError extends Error {
  override readonly name = 'QueryError';
  constructor(
    message: string,
    /** HTTP status the server answered with */
    readonly status: number,
    /** 1-based character offset of the error in the SQL text, when the engine knows it */
    readonly position?: number,
    /** machine-readable kind: 'sql', 'timeout', 'bad_request', 'busy', … */
    readonly code?: string,
  ) {
    super(message);
  }
}

/** The server could not be reached or answered something that is not a query result. */
export class ConnectionError extends Error {
  override readonly name = 'ConnectionError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
