/**
 * Optional bearer-token protection of the ingestion routes and of the query side (`/api`, Flight SQL, the
 * PostgreSQL gateway). Keys are held as SHA-256 hashes and compared
 * with `timingSafeEqual`, so neither the stored form nor the comparison time reveals a key.
 *
 * Which keys a side accepts, and when it requires one, is the gate's business (auth/key-gate.ts).
 *
 * @example
 *   app.use('*', requireApiKey(staticKeyGate(['s3cret'])));   // then: Authorization: Bearer s3cret
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { KEY_RETRY_AFTER_SECONDS, type KeyGate } from '../auth/key-gate.js';

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
  return hashMatches(hashKey(presented), hashes);
}

/** true when the SHA-256 `h` is one of `hashes`, in time that does not depend on which (if any) matches */
export function hashMatches(h: Buffer, hashes: readonly Buffer[]): boolean {
  let ok = false;
  for (const known of hashes) ok = timingSafeEqual(h, known) || ok;
  return ok;
}

/** The bearer token of an `Authorization` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
}

/**
 * 401 unless the request carries `Authorization: Bearer <key>` that the gate accepts (a no-op on an open
 * side); 503 with `Retry-After` when the key cannot be checked right now.
 */
export function requireApiKey(gate: KeyGate): MiddlewareHandler {
  return async (c, next) => {
    const key = bearerToken(c.req.header('authorization'));
    const pending = gate.check(key);
    const verdict = pending instanceof Promise ? await pending : pending;
    if (verdict.ok) return next();
    if (verdict.reason === 'unavailable') {
      return c.json({ error: verdict.message }, 503, { 'Retry-After': String(KEY_RETRY_AFTER_SECONDS) });
    }
    const error = verdict.reason === 'missing' ? 'missing API key: send Authorization: Bearer <key>' : verdict.message;
    return c.json({ error }, 401, { 'WWW-Authenticate': 'Bearer' });
  };
}
