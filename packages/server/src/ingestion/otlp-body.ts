/**
 * An OTLP/HTTP request's body, decompressed: exporters send `Content-Encoding: gzip` when configured with
 * `compression: 'gzip'` (and the OpenTelemetry Collector does by default), some `deflate`. The compressed body
 * is capped like any body (`readBody`), and so is what it inflates to, counted while inflating: a small "zip
 * bomb" answers 413 after at most `limit` bytes have been produced, never more held in memory. An encoding
 * the server does not speak answers 415; a corrupt or truncated stream 400.
 *
 * @example
 *   const bytes = await readOtlpBody(c.req.raw, 16 << 20);   // the request's bytes, decompressed
 */
import { createGunzip, createInflate, createInflateRaw, type Gunzip, type Inflate, type InflateRaw } from 'node:zlib';
import { HttpError } from './http-error.js';
import { readBody } from './read-body.js';

const CODINGS = ['gzip', 'deflate'] as const;
type Coding = (typeof CODINGS)[number];

/** The body of `req`, decompressed per its Content-Encoding; at most `limit` bytes before and after inflating. */
export async function readOtlpBody(req: Request, limit: number): Promise<Uint8Array> {
  const coding = contentCoding(req.headers.get('content-encoding'));
  const raw = await readBody(req, limit);
  return coding === null ? raw : inflate(coding, raw, limit);
}

/** The one coding a Content-Encoding header names (`identity` and absent: none); 415 for anything else. */
export function contentCoding(header: string | null): Coding | null {
  const codings = (header ?? '').split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '' && s !== 'identity');
  if (codings.length === 0) return null;
  const [c] = codings;
  const coding = c === 'x-gzip' ? 'gzip' : c;
  if (codings.length > 1 || !CODINGS.includes(coding as Coding)) {
    throw new HttpError(415, `Content-Encoding ${JSON.stringify(header)} is not supported: send gzip, deflate or none`);
  }
  return coding as Coding;
}

/**
 * `deflate` is the zlib format (RFC 9110), but some clients send a bare deflate stream: a zlib header is two
 * bytes whose first names method 8 and whose 16-bit value is a multiple of 31.
 */
function inflater(coding: Coding, head: Uint8Array): Gunzip | Inflate | InflateRaw {
  if (coding === 'gzip') return createGunzip();
  const zlibHeader = head.length >= 2 && (head[0]! & 0x0f) === 8 && ((head[0]! << 8) | head[1]!) % 31 === 0;
  return zlibHeader ? createInflate() : createInflateRaw();
}

/** Inflates `data`, stopping (413) as soon as the output passes `limit` bytes. */
export function inflate(coding: Coding, data: Uint8Array, limit: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const z = inflater(coding, data);
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (err: HttpError) => {
      if (done) return;
      done = true;
      z.destroy();
      reject(err);
    };
    z.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > limit) fail(new HttpError(413, `body inflates (${coding}) to more than the limit of ${limit} bytes`));
      else chunks.push(chunk);
    });
    z.on('error', (err) => fail(new HttpError(400, `body is not valid ${coding} data: ${err.message}`)));
    z.on('end', () => {
      if (done) return;
      done = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    z.end(data);
  });
}
