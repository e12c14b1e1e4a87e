/**
 * An error that becomes an HTTP answer `{ "error": reason }` with its status. Anything else thrown by a
 * route is a 500 whose details stay in the server log.
 */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: 400 | 401 | 404 | 409 | 413 | 415 | 503,
    readonly reason: string,
  ) {
    super(reason);
  }
}
