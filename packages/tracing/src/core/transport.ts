/**
 * HTTP to the ingestion service through `fetch`, which both Node and browsers provide. A result says
 * whether a failure is worth retrying: network errors, timeouts, 408, 429 and 5xx are; other 4xx are not.
 * A 429 or 503 may say how long to wait (`Retry-After`, seconds or an HTTP date): the result carries it.
 * With an API key, every request carries `Authorization: Bearer <key>` (servers started with
 * `SIRIUS_INGESTION_KEYS` answer 401 without one).
 */
export type PostResult =
  | { ok: true }
  | { ok: false; retry: boolean; status: number; message: string; retryAfterMs?: number };

export interface Transport {
  /** where requests go, for messages (never includes the key) */
  readonly url?: string;
  /** true when requests carry an API key (for the message when the server refuses them) */
  readonly keyed?: boolean;
  post(path: string, body: Uint8Array | string, contentType: string): Promise<PostResult>;
}

export interface FetchTransportOptions {
  /** sent as `Authorization: Bearer <apiKey>`; none when empty */
  apiKey?: string;
  /** per request (default 15 s): a request that takes longer fails and is retried */
  timeoutMs?: number;
}

export function fetchTransport(baseUrl: string, o: FetchTransportOptions = {}): Transport {
  const base = baseUrl.replace(/\/+$/, '');
  const timeoutMs = o.timeoutMs ?? 15_000;
  const headers: Record<string, string> = {};
  if (o.apiKey) headers.authorization = `Bearer ${o.apiKey}`;
  return {
    url: base,
    keyed: Boolean(o.apiKey),
    async post(path, body, contentType) {
      let res: Response;
      try {
        res = await fetch(base + path, {
          method: 'POST',
          body: body as BodyInit,
          headers: { ...headers, 'content-type': contentType },
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (e) {
        return { ok: false, retry: true, status: 0, message: String((e as Error).cause ?? e) };
      }
      const text = await res.text().catch(() => '');
      if (res.ok) return { ok: true };
      const s = res.status;
      const retryAfterMs = s === 429 || s === 503 ? parseRetryAfter(res.headers.get('retry-after'), Date.now()) : undefined;
      const result: PostResult = { ok: false, retry: s === 408 || s === 429 || s >= 500, status: s, message: text.slice(0, 300) };
      if (retryAfterMs !== undefined) result.retryAfterMs = retryAfterMs;
      return result;
    },
  };
}

/** `Retry-After` as milliseconds from `now`: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
