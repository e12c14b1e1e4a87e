/**
 * Managed API keys in the metadata database (table `api_keys`, migration 003). A secret exists in clear only
 * in the value `createKey` returns; the table keeps its SHA-256 hash. Keys are revoked, never deleted.
 *
 * @example
 *   const { secret } = await createKey(lake.sql, 'grafana', 'query');   // show it once, then it is gone
 *   await revokeKey(lake.sql, 'grafana');
 */
import { createHash, randomBytes } from 'node:crypto';
import { nowNs } from '../clock.js';
import type { SqlClient } from './sql-client.js';

export type KeyKind = 'ingestion' | 'query';
export const KEY_KINDS: readonly KeyKind[] = ['ingestion', 'query'];

export interface StoredKey {
  name: string;
  kind: KeyKind;
  /** nanoseconds since the epoch */
  createdTime: bigint;
  /** null until first used; updated a few seconds after use at most, not on every request */
  lastUsedTime: bigint | null;
  revokedTime: bigint | null;
}

export interface CreatedKey extends StoredKey {
  /** the key itself: returned here only, never stored */
  secret: string;
}

/** What a server keeps in memory to check keys: hashes only. */
export interface KeyHashRow {
  name: string;
  kind: KeyKind;
  /** SHA-256 of the secret, lowercase hex */
  hash: string;
  revoked: boolean;
}

/** A refused key operation, with a message that names the problem (the CLI prints it as is). */
export class KeyStoreError extends Error {
  override readonly name = 'KeyStoreError';
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function keyHashHex(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function checkKeyName(name: string): void {
  if (!NAME.test(name)) {
    throw new KeyStoreError(`invalid key name ${JSON.stringify(name)}: use 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit`);
  }
}

export function checkKeyKind(kind: string): asserts kind is KeyKind {
  if (!KEY_KINDS.includes(kind as KeyKind)) throw new KeyStoreError(`invalid key kind ${JSON.stringify(kind)}: want ingestion or query`);
}

/** Creates a key; the secret (`sirius_<kind>_` + 256 random bits, base64url) is in the result and nowhere else. */
export async function createKey(sql: SqlClient, name: string, kind: KeyKind): Promise<CreatedKey> {
  checkKeyName(name);
  checkKeyKind(kind);
  const secret = `sirius_${kind}_${randomBytes(32).toString('base64url')}`;
  const created = nowNs();
  const rows = await sql.query(
    `INSERT INTO api_keys (name, kind, key_hash, created_time) VALUES ($1, $2, $3, $4)
     ON CONFLICT (name) DO NOTHING RETURNING name`,
    [name, kind, keyHashHex(secret), created.toString()],
  );
  if (rows.length === 0) throw new KeyStoreError(`a key named ${JSON.stringify(name)} already exists (names stay taken after revocation)`);
  return { name, kind, createdTime: created, lastUsedTime: null, revokedTime: null, secret };
}

export async function listKeys(sql: SqlClient): Promise<StoredKey[]> {
  const rows = await sql.query<{ name: string; kind: KeyKind; created_time: string; last_used_time: string | null; revoked_time: string | null }>(
    `SELECT name, kind, created_time::text AS created_time, last_used_time::text AS last_used_time, revoked_time::text AS revoked_time
     FROM api_keys ORDER BY kind, name`,
  );
  const big = (v: string | null) => (v === null ? null : BigInt(v));
  return rows.map((r) => ({ name: r.name, kind: r.kind, createdTime: BigInt(r.created_time), lastUsedTime: big(r.last_used_time), revokedTime: big(r.revoked_time) }));
}

/** Revokes the key named `name`; throws when there is none or it was already revoked. */
export async function revokeKey(sql: SqlClient, name: string): Promise<void> {
  const rows = await sql.query('UPDATE api_keys SET revoked_time = $2 WHERE name = $1 AND revoked_time IS NULL RETURNING name', [name, nowNs().toString()]);
  if (rows.length > 0) return;
  const [found] = await sql.query('SELECT 1 FROM api_keys WHERE name = $1', [name]);
  throw new KeyStoreError(found ? `the key ${JSON.stringify(name)} is already revoked` : `no key named ${JSON.stringify(name)}`);
}

/** Every key's hash, kind and state: what a server refreshes (a small table, read whole). */
export async function loadKeyHashes(sql: SqlClient): Promise<KeyHashRow[]> {
  const rows = await sql.query<{ name: string; kind: KeyKind; key_hash: string; revoked: boolean }>(
    'SELECT name, kind, key_hash, revoked_time IS NOT NULL AS revoked FROM api_keys',
  );
  return rows.map((r) => ({ name: r.name, kind: r.kind, hash: r.key_hash, revoked: r.revoked }));
}

/** Records when keys were last used, all in one statement; a time never moves backwards. */
export async function recordKeysUsed(sql: SqlClient, used: ReadonlyMap<string, bigint>): Promise<void> {
  if (used.size === 0) return;
  await sql.query(
    `UPDATE api_keys SET last_used_time = GREATEST(coalesce(api_keys.last_used_time, 0), u.t)
     FROM unnest($1::text[], $2::bigint[]) AS u(name, t) WHERE api_keys.name = u.name`,
    [[...used.keys()], [...used.values()].map(String)],
  );
}
