/**
 * What every Flight call needs from its gRPC metadata: the caller's API key (when keys are configured),
 * the query's time range (`x-sirius-begin` / `x-sirius-end`, or `query_range_begin` / `query_range_end`;
 * a side not given comes from the query's own predicates on time, else the engine's default), and errors
 * turned into gRPC statuses clients understand.
 *
 * @example
 *   // a client sets: authorization: Bearer <key>, x-sirius-begin: 1h, x-sirius-end: now
 *   const range = timeRangeOf(call.metadata);   // { begin: '1h', end: 'now' }
 */
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { QueryError } from '../../analytics/query-error.js';
import type { KeyGate } from '../../auth/key-gate.js';
import { BadCommandError, UnsupportedCommandError } from './protocol.js';
import { IpcFramingError } from './ipc-messages.js';

export const BEGIN_HEADER = 'x-sirius-begin';
export const END_HEADER = 'x-sirius-end';
/** the same range under the names other Flight SQL servers for this kind of data accept (RFC 3339) */
export const RANGE_BEGIN_HEADER = 'query_range_begin';
export const RANGE_END_HEADER = 'query_range_end';
export const POSITION_HEADER = 'x-sirius-error-position';

/** undefined sides are left to the query engine (the query's own time predicates, else its default range) */
export interface TimeRangeArgs {
  begin?: string;
  end?: string;
}

function header(md: Metadata, name: string): string | undefined {
  const v = md.get(name)[0];
  if (v === undefined) return undefined;
  const s = (typeof v === 'string' ? v : v.toString('utf8')).trim();
  return s === '' ? undefined : s;
}

/** the range as the engine reads it: ISO-8601, `now`, or a duration back from now (`1h`) */
export function timeRangeOf(md: Metadata): TimeRangeArgs {
  return {
    begin: header(md, BEGIN_HEADER) ?? header(md, RANGE_BEGIN_HEADER),
    end: header(md, END_HEADER) ?? header(md, RANGE_END_HEADER),
  };
}

/** A gRPC error with a status code, as grpc-js sends it. */
export class FlightError extends Error implements Partial<ServiceError> {
  override readonly name = 'FlightError';
  constructor(
    readonly code: status,
    message: string,
    readonly metadata: Metadata = new Metadata(),
  ) {
    super(message);
  }
  get details(): string {
    return this.message;
  }
}

/**
 * The key a call presents: `authorization: Bearer <key>`, or Basic credentials whose password is the key
 * (JDBC and ODBC drivers only offer user/password fields).
 */
export function presentedKey(md: Metadata): string | undefined {
  const auth = header(md, 'authorization');
  if (!auth) return undefined;
  const bearer = /^Bearer\s+(\S+)$/i.exec(auth);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+(\S+)$/i.exec(auth);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : decoded;
  }
  return undefined;
}

/**
 * Resolves to the presented key when the side is open or the gate accepts it; else throws UNAUTHENTICATED,
 * or UNAVAILABLE (retryable, said in the message: gRPC has no Retry-After) when the key cannot be checked now.
 */
export async function authenticate(md: Metadata, keys: KeyGate): Promise<string | undefined> {
  const key = presentedKey(md);
  const pending = keys.check(key);
  const verdict = pending instanceof Promise ? await pending : pending;
  if (verdict.ok) return key;
  if (verdict.reason === 'missing') throw new FlightError(status.UNAUTHENTICATED, 'missing API key: send the metadata header "authorization: Bearer <key>"');
  if (verdict.reason === 'unavailable') throw new FlightError(status.UNAVAILABLE, `${verdict.message} (retryable)`);
  throw new FlightError(status.UNAUTHENTICATED, verdict.message);
}

const QUERY_STATUS: Record<QueryError['code'], status> = {
  sql: status.INVALID_ARGUMENT,
  bad_request: status.INVALID_ARGUMENT,
  timeout: status.DEADLINE_EXCEEDED,
  too_large: status.RESOURCE_EXHAUSTED,
  busy: status.UNAVAILABLE,
  unavailable: status.UNAVAILABLE,
  internal: status.INTERNAL,
};

/** Any thrown value as the gRPC error to send; the SQL position also travels as trailing metadata. */
export function toGrpcError(err: unknown): FlightError {
  if (err instanceof FlightError) return err;
  if (err instanceof QueryError) {
    const md = new Metadata();
    let message = err.message;
    if (err.position !== undefined) {
      md.set(POSITION_HEADER, String(err.position));
      message += ` (at position ${err.position})`;
    }
    md.set('x-sirius-error-code', err.code);
    return new FlightError(QUERY_STATUS[err.code], message, md);
  }
  if (err instanceof UnsupportedCommandError) return new FlightError(status.UNIMPLEMENTED, err.message);
  if (err instanceof BadCommandError) return new FlightError(status.INVALID_ARGUMENT, err.message);
  if (err instanceof IpcFramingError) return new FlightError(status.INTERNAL, err.message);
  return new FlightError(status.INTERNAL, `internal error: ${(err as Error)?.message ?? String(err)}`);
}
