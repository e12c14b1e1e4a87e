import type { ObjectStore } from './object-store.js';
import type { SqlClient } from './sql-client.js';

/** The data lake every stage after ingestion reads: metadata in SQL, payloads in the object store. */
export interface Lake {
  readonly sql: SqlClient;
  readonly objects: ObjectStore;
}
