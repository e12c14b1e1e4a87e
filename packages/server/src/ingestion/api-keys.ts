/**
 * Optional bearer-token protection of the ingestion routes and of the query side (`/api`, Flight SQL, the
 * PostgreSQL gateway). Keys are held as SHA-256 hashes and compared
 * with `timingSafeEqual`, so neither the stored form nor the comparison time reveals a key.
 *
 * @example
 *   app.use('*', requireApiKey(hashKeys(['s3cret'])));   // then: Authorization: Bearer s3cret
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

export function hashKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

export function hashKeys(keys: readonly string[]): Buffer[] {
  return keys.filter((k) => k.length > 0).map(hashKey);
}

/** Parses `SIRIUS_INGESTION_KEYS` or `SIRIUS_QUERY_KEYS`: comma-separated, blanks ignored. */
export function parseKeyList(value: string | undefined): string[] {
  return (value ?? '').split(',').map((k) => k.trim()).filter((k) => k.length > 0);
}

/** true when `presented` hashes to one of `hashes`; every hash is compared, whatever matches. */
export function keyMatches(presented: string, hashes: readonly Buffer[]): boolean {
  const h = hashKey(presented);
  let ok = false;
  for (const known of hashes) ok = timingSafeEqual(h, known) || ok;
  return ok;
}

/** 401 unless the request carries `Authorization: Bearer <key>` for a known key; a no-op with no keys. */
export function requireApiKey(hashes: readonly Buffer[]): MiddlewareHandler {
  return async (c, next) => {
    if (hashes.length === 0) return next();
    const header = c.req.header('authorization') ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m || !keyMatches(m[1]!, hashes)) {
      return c.json({ error: m ? 'unknown API key' : 'missing API key: send Authorization: Bearer <key>' }, 401, {
        'WWW-Authenticate': 'Bearer',
      });
    }
    return next();
  };
}
