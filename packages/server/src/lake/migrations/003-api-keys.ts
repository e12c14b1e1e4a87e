/**
 * Managed API keys (`sirius admin keys`). Migration 1 created `api_keys` (name, key_hash, created_time) but
 * nothing used it; this gives each key a side (`kind`), a last-used time and a revocation time. Only a SHA-256
 * hash of each secret is kept; a key is never deleted, only revoked, so a side that once had keys never turns
 * open again by accident (docs/security.md). Rows written by hand before this version become query keys.
 * Times are nanoseconds since the epoch, like the rest of the metadata.
 */
import type { Migration } from './migration.js';

export const apiKeysMigration: Migration = {
  version: 3,
  name: 'api-keys',
  async up(tx) {
    await tx.query(`ALTER TABLE api_keys ADD COLUMN kind text NOT NULL DEFAULT 'query' CHECK (kind IN ('ingestion', 'query'))`);
    await tx.query(`ALTER TABLE api_keys ALTER COLUMN kind DROP DEFAULT`);
    await tx.query(`ALTER TABLE api_keys ADD COLUMN last_used_time bigint`);
    await tx.query(`ALTER TABLE api_keys ADD COLUMN revoked_time bigint`);
  },
};
