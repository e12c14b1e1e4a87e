/**
 * Why a query failed, typed so the HTTP layer picks a status and clients can show a caret under the SQL.
 */
/** `unavailable`: the metadata database or object store cannot serve now (retry later; the message names no host or path) */
export type QueryErrorCode = 'sql' | 'bad_request' | 'timeout' | 'busy' | 'too_large' | 'unavailable' | 'internal';

/** `busy` (every query slot taken, the queue full) clears as queries finish: seconds a client should wait */
export const BUSY_RETRY_AFTER_SECONDS = 1;

export class QueryError extends Error {
  override readonly name = 'QueryError';
  constructor(
    readonly code: QueryErrorCode,
    message: string,
    /** 1-based character offset of the error in the SQL the user sent (PostgreSQL's convention) */
    readonly position?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
