/**
 * The Arrow Flight SQL endpoint: a gRPC server (default port 50051) that lets Flight SQL clients — ADBC,
 * the Flight SQL JDBC driver, Grafana's Flight SQL data source — run SQL over Sirius. Every query
 * covers a time range taken from the `x-sirius-begin` / `x-sirius-end` (or `query_range_begin` /
 * `query_range_end`) metadata headers (ISO-8601, `now`, or a duration back from now such as `1h`); without
 * them, from the query's own predicates on time, else the engine's default (the last 24 h).
 *
 * @example
 *   const flight = await startFlightSqlServer({ engine, port: 50051, apiKeys: ['s3cret'] });
 *   // python: adbc_driver_flightsql.dbapi.connect('grpc://127.0.0.1:50051',
 *   //   db_kwargs={'adbc.flight.sql.authorization_header': 'Bearer s3cret',
 *   //              'adbc.flight.sql.rpc.call_header.x-sirius-begin': '1h'})
 *   await flight.close();
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { QueryEngine } from '../../analytics/query-engine.js';
import { staticKeyGate, type KeyGate } from '../../auth/key-gate.js';
import { createFlightSqlHandlers } from './flight-service.js';
import { FLIGHT_SERVICE } from './protocol.js';
import type { StatementLimits } from './statements.js';

export interface FlightSqlServerOptions {
  engine: QueryEngine;
  /** default 127.0.0.1 */
  host?: string;
  /** 0 picks a free port */
  port: number;
  /** when set and non-empty, every call must present one (`authorization: Bearer <key>`, or Basic with the key as password) */
  apiKeys?: readonly string[];
  /** the key check to use instead of `apiKeys` (a server's, with its managed keys) */
  keys?: KeyGate;
  /** the tables GetTables lists (default: the global Sirius views) */
  views?: readonly string[];
  limits?: StatementLimits;
  /** ms to let calls finish at close before cutting them (default 2 000) */
  shutdownGraceMs?: number;
}

export interface FlightSqlServer {
  port: number;
  close(): Promise<void>;
}

export async function startFlightSqlServer(opts: FlightSqlServerOptions): Promise<FlightSqlServer> {
  const handlers = createFlightSqlHandlers({
    engine: opts.engine,
    keys: opts.keys ?? staticKeyGate(opts.apiKeys ?? []),
    views: opts.views,
    limits: opts.limits,
  });
  const server = new Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
  server.addService(FLIGHT_SERVICE, handlers.implementation);
  const host = opts.host ?? '127.0.0.1';
  const address = host.includes(':') && !host.startsWith('[') ? `[${host}]:${opts.port}` : `${host}:${opts.port}`;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
  });
  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.forceShutdown(), opts.shutdownGraceMs ?? 2_000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          handlers.clear();
          resolve();
        });
      });
      return closing;
    },
  };
}

export type { StatementLimits } from './statements.js';
export { BEGIN_HEADER, END_HEADER, POSITION_HEADER } from './call-context.js';
