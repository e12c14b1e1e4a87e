/**
 * @sirius/server — the public server API: start a server, open the lake's parts, the Node LZ4 codec.
 * Anything not exported here is internal and may change.
 */
export { startServer } from './serve.js';
export type { RunningServer } from './serve.js';
export type { ServeOptions, ServeConfig, Role } from './config.js';
export { ROLES, resolveServeConfig, parseDurationNs, parseByteSize } from './config.js';
export type { RoleContext, Service, HttpRole } from './roles.js';

export type { Lake } from './lake/lake.js';
export { openLake } from './lake/open-lake.js';
export type { OpenLakeOptions, OpenedLake } from './lake/open-lake.js';
export type { SqlClient } from './lake/sql-client.js';
export { openSqlClient } from './lake/open-sql-client.js';
export type { OpenSqlClientOptions } from './lake/open-sql-client.js';
export { runMigrations, schemaVersion } from './lake/migrate.js';
export type { ObjectStore } from './lake/object-store.js';
export { ObjectNotFoundError, blobKey } from './lake/object-store.js';
export { openObjectStore } from './lake/open-object-store.js';
export { lz4Codec, transitCodecs } from './lake/lz4-codec.js';
export { insertProcess, getProcess } from './lake/process-repository.js';
export type { ProcessRecord } from './lake/process-repository.js';
export { insertStream, getStream } from './lake/stream-repository.js';
export type { StreamRecord } from './lake/stream-repository.js';
export { insertBlocks, getBlock, listStreamBlocks } from './lake/block-repository.js';
export type { BlockRecord } from './lake/block-repository.js';
export { BlockBatcher } from './lake/block-batcher.js';
export { nowNs } from './clock.js';
