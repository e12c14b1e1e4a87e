/**
 * Every page reads data through here: SQL over the shared time range via `@sirius/client`, answered as
 * Arrow. Queries a page starts are cancelled when the page goes away, so a slow query never paints over
 * a newer view.
 */
import { connect, QueryError, ConnectionError } from '@sirius/client';
import type { Table } from 'apache-arrow';
import type { ResolvedRange } from '../lib/time-range.js';

export { QueryError, ConnectionError };

const client = connect(location.origin);

let inFlight = 0;
const listeners = new Set<(n: number) => void>();
function setInFlight(d: number) {
  inFlight += d;
  for (const l of listeners) l(inFlight);
}
/** Lets the header show a busy indicator. */
export function onBusyChange(l: (n: number) => void): void {
  listeners.add(l);
}

export async function query(sql: string, range: ResolvedRange, signal?: AbortSignal): Promise<Table> {
  setInFlight(1);
  try {
    return await client.query(sql, new Date(range.begin), new Date(range.end), { signal });
  } finally {
    setInFlight(-1);
  }
}

export function isAbort(err: unknown): boolean {
  return (err as Error)?.name === 'AbortError';
}

/** A message for a failed query, with the engine's position when it gave one. */
export function describeError(err: unknown): string {
  if (err instanceof QueryError) return err.position ? `${err.message} (at character ${err.position})` : err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

/** JSON helper for the small non-SQL endpoints (notebooks). */
export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(path, { ...init, headers: { accept: 'application/json', ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers } });
  const text = await res.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  if (!res.ok) {
    const msg = (body as { error?: string } | undefined)?.error ?? (text.slice(0, 200) || res.statusText);
    throw new ApiError(msg, res.status, body);
  }
  return body as T;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(message: string, readonly status: number, readonly body: unknown) {
    super(message);
  }
}
