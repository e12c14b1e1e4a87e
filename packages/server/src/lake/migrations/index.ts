/**
 * Every schema migration, in order. To add one: write `NNN-name.ts` exporting a `Migration` with the next
 * version, and append it here. `runMigrations` refuses a list whose versions are not 1, 2, 3, …
 */
import { metadataMigration } from './001-metadata.js';
import { lakehouseMigration } from './002-lakehouse.js';
import { apiKeysMigration } from './003-api-keys.js';
import { lakeScaleMigration } from './004-lake-scale.js';
import type { Migration } from './migration.js';

export type { Migration } from './migration.js';

export const migrations: readonly Migration[] = [
  metadataMigration,
  lakehouseMigration,
  apiKeysMigration,
  lakeScaleMigration,
];
