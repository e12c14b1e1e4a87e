/**
 * HTTP to the ingestion service through `fetch`, which both Node and browsers provide. A result says
 * whether a failure is worth retrying: network errors, timeouts, 408, 429 and 5xx are; other 4xx are not.
 */
export type PostResult =
  | { ok: true }
  | { ok: false; retry: boolean; status: number; message: string };

export interface Transport {
  post(path: string, body: Uint8Array | string, contentType: string): Promise<PostResult>;
}

export function fetchTransport(baseUrl: string, timeoutMs = 15_000): Transport {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    async post(path, body, contentType) {
      let res: Response;
      try {
        res = await fetch(base + path, {
          method: 'POST',
          body: body as BodyInit,
          headers: { 'content-type': contentType },
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (e) {
        return { ok: false, retry: true, status: 0, message: String((e as Error).cause ?? e) };
      }
      const text = await res.text().catch(() => '');
      if (res.ok) return { ok: true };
      const s = res.status;
      return { ok: false, retry: s === 408 || s === 429 || s >= 500, status: s, message: text.slice(0, 300) };
    },
  };
}
