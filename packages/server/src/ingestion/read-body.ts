/**
 * Reads a request body into one buffer, refusing it with 413 as soon as it is known to exceed `limit`:
 * from Content-Length before reading anything, or while streaming a body of unknown length — never
 * buffering more than `limit` bytes.
 */
import { HttpError } from './http-error.js';

export async function readBody(req: Request, limit: number): Promise<Uint8Array> {
  const declared = req.headers.get('content-length');
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit);
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let next: ReadableStreamReadResult<Uint8Array>;
    try {
      next = await reader.read();
    } catch {
      // the client went away or was cut off for being too slow: its request, not a server fault to log
      throw new HttpError(400, 'the request body ended before it was complete');
    }
    const { done, value } = next;
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Reads and parses a JSON body (at most `limit` bytes); 400 when it is not JSON. */
export async function readJson(req: Request, limit: number): Promise<unknown> {
  const bytes = await readBody(req, limit);
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new HttpError(400, `body is not valid JSON: ${(err as Error).message}`);
  }
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, `body larger than the limit of ${limit} bytes`);
}
