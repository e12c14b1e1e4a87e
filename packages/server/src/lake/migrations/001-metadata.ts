/**
 * Metadata of what instrumented processes sent: processes, their streams, the blocks of each stream
 * (payloads live in the object store), and ingestion API keys (hashes only).
 * Times are nanoseconds since the Unix epoch in bigint columns; `insert_time` is the server's clock.
 */
import type { Migration } from './migration.js';

export const metadataMigration: Migration = {
  version: 1,
  name: 'metadata',
  async up(tx) {
    await tx.query(`
      CREATE TABLE processes (
        process_id text PRIMARY KEY,
        exe text NOT NULL,
        username text NOT NULL,
        realname text NOT NULL,
        computer text NOT NULL,
        distro text NOT NULL,
        cpu_brand text NOT NULL,
        tsc_frequency bigint NOT NULL,
        start_time bigint NOT NULL,
        start_ticks bigint NOT NULL,
        parent_process_id text NULL,
        properties jsonb NOT NULL DEFAULT '{}'::jsonb,
        insert_time bigint NOT NULL
      )`);
    await tx.query(`
      CREATE TABLE streams (
        stream_id text PRIMARY KEY,
        process_id text NOT NULL,
        tags text[] NOT NULL DEFAULT '{}',
        properties jsonb NOT NULL DEFAULT '{}'::jsonb,
        dependencies_metadata bytea NULL,
        objects_metadata bytea NULL,
        insert_time bigint NOT NULL
      )`);
    await tx.query(`CREATE INDEX streams_process_id ON streams (process_id)`);
    await tx.query(`
      CREATE TABLE blocks (
        block_id text PRIMARY KEY,
        stream_id text NOT NULL,
        process_id text NOT NULL,
        begin_time bigint NOT NULL,
        begin_ticks bigint NOT NULL,
        end_time bigint NOT NULL,
        end_ticks bigint NOT NULL,
        nb_objects integer NOT NULL,
        object_offset bigint NOT NULL,
        payload_size bigint NOT NULL,
        insert_time bigint NOT NULL
      )`);
    await tx.query(`CREATE INDEX blocks_stream_begin ON blocks (stream_id, begin_time)`);
    await tx.query(`CREATE INDEX blocks_insert_time ON blocks (insert_time)`);
    await tx.query(`CREATE INDEX blocks_process_begin ON blocks (process_id, begin_time)`);
    await tx.query(`
      CREATE TABLE api_keys (
        name text PRIMARY KEY,
        key_hash text NOT NULL UNIQUE,
        created_time bigint NOT NULL
      )`);
  },
};
