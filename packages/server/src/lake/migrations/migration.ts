import type { SqlClient } from '../sql-client.js';

/**
 * One schema step. Versions are consecutive from 1; a migration runs once, inside the migration transaction,
 * and must never change after it has shipped (add a new one instead).
 */
export interface Migration {
  version: number;
  name: string;
  up(tx: SqlClient): Promise<void>;
}
