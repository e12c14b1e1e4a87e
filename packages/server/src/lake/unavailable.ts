/**
 * A backend of the lake (the metadata database or the object store) cannot serve right now: refused or
 * dropped connections, a partition that ran past its deadline, a full or read-only disk. Requests that hit
 * one answer 503 with `Retry-After` and a fixed message: the original error names hosts, ports and file
 * paths, so it goes to the server log (`cause`), never to the client.
 *
 * @example
 *   try { await lake.sql.query('SELECT 1'); } catch (err) { if (isUnavailable(err)) return retryLater(); throw err; }
 */

export type LakeComponent = 'metadata database' | 'object store';

/** seconds a client should wait before retrying; outages outlast one request, so not zero */
export const RETRY_AFTER_SECONDS = 5;

export class UnavailableError extends Error {
  override readonly name = 'UnavailableError';
  readonly retryAfterSeconds = RETRY_AFTER_SECONDS;
  constructor(
    readonly component: LakeComponent,
    options?: { cause?: unknown },
  ) {
    super(`the ${component} is unavailable; retry later`, options);
  }
}

/** The UnavailableError in `err` or its cause chain (any depth, including AggregateError members), else undefined. */
export function findUnavailable(err: unknown): UnavailableError | undefined {
  const seen = new Set<unknown>();
  const visit = (e: unknown): UnavailableError | undefined => {
    if (e === null || typeof e !== 'object' || seen.has(e)) return undefined;
    seen.add(e);
    if (e instanceof UnavailableError) return e;
    if (e instanceof AggregateError) {
      for (const inner of e.errors) {
        const found = visit(inner);
        if (found) return found;
      }
    }
    return visit((e as { cause?: unknown }).cause);
  };
  return visit(err);
}

export function isUnavailable(err: unknown): boolean {
  return findUnavailable(err) !== undefined;
}

/** Node system error codes that mean "the other side or the disk is not there", not "your input is wrong". */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);
const DISK_CODES = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EIO', 'EACCES', 'EPERM', 'EMFILE', 'ENFILE']);

/** true when a system error (or its cause) is a lost connection or an unusable disk */
export function isOutageErrno(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || DISK_CODES.has(code))) return true;
  const cause = (err as { cause?: unknown })?.cause;
  return cause !== undefined && cause !== err && isOutageErrno(cause);
}
