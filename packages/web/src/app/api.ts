/**
 * Every page reads data through here: SQL over the shared time range via `@sirius/client`, answered as
 * Arrow. Queries a page starts are cancelled when the page goes away, so a slow query never paints over
 * a newer view.
 */
import { connect, QueryError, ConnectionError } from '@sirius/client';
import type { Table } from 'apache-arrow';
import type { ResolvedRange } from '../lib/time-range.js';
import { askForKey, storedKey, storeKey } from './sign-in.js';

export { QueryError, ConnectionError };

let apiKey = storedKey();
let client = connect(location.origin, { apiKey });

/** `Authorization` for the requests made here without the client (notebooks, downloads). */
function authHeaders(): Record<string, string> {
  return apiKey ? { authorization: `Bearer ${apiKey}` } : {};
}

/**
 * Runs `f`; when the server answers 401 (it was started with SIRIUS_QUERY_KEYS), asks for a key and runs it
 * again with that key, until one is accepted or the dialog is dismissed (then the 401 is the answer).
 */
async function withKey<T>(f: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await f();
    } catch (err) {
      if ((err as { status?: number }).status !== 401) throw err;
      const key = await askForKey(apiKey ? `That key was not accepted (${(err as Error).message}).` : 'Enter a key to see this server\'s data.');
      if (key === null) throw err;
      apiKey = key;
      storeKey(key);
      client = connect(location.origin, { apiKey });
    }
  }
}

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
    return await withKey(() => client.query(sql, new Date(range.begin), new Date(range.end), { signal }));
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
export function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  return withKey(() => apiOnce<T>(path, init));
}

/**
 * Saves what `path` answers as a file named `name`. A plain link would do, but a link cannot send the API
 * key: the bytes are fetched here with it and handed to the browser as a download.
 */
export async function download(path: string, name: string): Promise<void> {
  const blob = await withKey(async () => {
    const res = await fetch(path, { headers: authHeaders() });
    if (!res.ok) throw new ApiError((await res.text()).slice(0, 200) || res.statusText, res.status, undefined);
    return res.blob();
  });
  const url = URL.createObjectURL(blob);
  const a = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

async function apiOnce<T>(path: string, init: RequestInit): Promise<T> {
  const res = await fetch(path, { ...init, headers: { accept: 'application/json', ...(init.body ? { 'content-type': 'application/json' } : {}), ...authHeaders(), ...init.headers } });
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
