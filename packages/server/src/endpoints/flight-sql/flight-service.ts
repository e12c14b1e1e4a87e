/**
 * The FlightService handlers: Flight SQL commands arrive Any-packed in descriptors, tickets and action
 * bodies and are answered over the query engine.
 *
 *   statement:  GetFlightInfo(CommandStatementQuery) → FlightInfo{schema, ticket} → DoGet(ticket) → FlightData…
 *               (GetFlightInfo prepares only; DoGet runs the query and streams its batches as DuckDB makes them)
 *   SQL ticket: DoGet(TicketStatementQuery{statement_handle: SQL text}) → FlightData… (the seed system's client)
 *   prepared:   DoAction(CreatePreparedStatement) → [DoPut(CommandPreparedStatementQuery, parameters)]
 *               → GetFlightInfo(CommandPreparedStatementQuery) → DoGet → DoAction(ClosePreparedStatement)
 *   catalog:    GetFlightInfo(CommandGetTables | GetCatalogs | GetDbSchemas | GetTableTypes | GetSqlInfo)
 *               → DoGet(ticket = the command itself)
 *
 * @example
 *   server.addService(FLIGHT_SERVICE, createFlightSqlHandlers({ engine, keys: staticKeyGate([]) }));
 */
import {
  Metadata, status, type sendUnaryData, type ServerDuplexStream, type ServerUnaryCall, type ServerWritableStream,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { Schema, tableFromIPC, type Table } from 'apache-arrow';
import type { QueryEngine } from '../../analytics/query-engine.js';
import type { QueryStream } from '../../analytics/query-stream.js';
import { GLOBAL_VIEWS } from '../../analytics/sql-scan.js';
import { authenticate, FlightError, timeRangeOf, toGrpcError } from './call-context.js';
import { staticKeyGate, type KeyGate } from '../../auth/key-gate.js';
import {
  CATALOGS_SCHEMA_FIELDS, DB_SCHEMAS_FIELDS, getCatalogs, getDbSchemas, getTables, getTableTypes, TABLE_TYPES_FIELDS,
  TABLES_FIELDS, type CatalogSource, type GetTablesCommand,
} from './catalog.js';
import { batchIpcMessages, encapsulatedSchema, joinIpcMessages, schemaMessage, tableToIpcMessages, type IpcMessage } from './ipc-messages.js';
import { parameterLiterals } from './parameters.js';
import {
  DESCRIPTOR_CMD, encodeMessage, FLIGHT_PACKAGE, packAny, unpackAny, type Action, type ActionType, type FlightData,
  type FlightDescriptor, type FlightInfo, type HandshakeMessage, type Result, type SchemaResult, type Ticket,
} from './protocol.js';
import { sqlInfoFields, sqlInfoTable } from './sql-info.js';
import { Statements, type StatementLimits } from './statements.js';

export interface FlightSqlHandlerOptions {
  engine: QueryEngine;
  /** which API keys pass (auth/key-gate.ts); checked on every call */
  keys: KeyGate;
  /** the tables GetTables lists (default: the global Sirius views) */
  views?: readonly string[];
  limits?: StatementLimits;
  /** record batches are re-cut to about this many bytes (default 2 MiB) */
  maxBatchBytes?: number;
}

export interface FlightSqlHandlers {
  implementation: UntypedServiceImplementation;
  /** forgets every open handle (server shutdown) */
  clear(): void;
}

/** most bytes a DoPut may send: parameters are a row of values */
const MAX_PUT_BYTES = 1 << 20;

const ACTIONS: ActionType[] = [
  { type: 'CreatePreparedStatement', description: 'Prepare a SQL query; returns a handle and the result schema' },
  { type: 'ClosePreparedStatement', description: 'Release a prepared statement handle' },
  { type: 'CloseSession', description: 'End the session (a no-op: Sirius keeps no session state)' },
];

type Call = { metadata: Metadata; cancelled: boolean; on(event: 'cancelled', fn: () => void): unknown };

function abortOnCancel(call: Call): AbortSignal {
  const controller = new AbortController();
  call.on('cancelled', () => controller.abort());
  return controller.signal;
}

export function createFlightSqlHandlers(opts: FlightSqlHandlerOptions): FlightSqlHandlers {
  const statements = new Statements(opts.engine, { batchBytes: opts.maxBatchBytes, ...opts.limits });
  const views = opts.views ?? GLOBAL_VIEWS;
  const schemaCache = new Map<string, Promise<Schema>>();
  const catalog: CatalogSource = {
    views,
    schemaOf(view) {
      let p = schemaCache.get(view);
      if (!p) {
        p = opts.engine.query(`SELECT * FROM "${view.replace(/"/g, '""')}" LIMIT 0`, { begin: '1s', end: 'now' }).then((o) => o.table.schema);
        p.catch(() => schemaCache.delete(view));
        schemaCache.set(view, p);
      }
      return p;
    },
  };

  function flightInfo(descriptor: FlightDescriptor, schema: Schema, ticket: Buffer): FlightInfo {
    return {
      schema: encapsulatedSchema(schema),
      flight_descriptor: descriptor,
      endpoint: [{ ticket: { ticket } }],
      // the query has not run yet: the row count is unknown
      total_records: -1,
      total_bytes: -1,
      ordered: true,
    };
  }

  /** the fixed-schema catalog commands: their result schema, or undefined for other commands */
  function catalogSchema(name: string, message: Record<string, unknown>): Schema | undefined {
    switch (name) {
      case 'CommandGetCatalogs': return new Schema(CATALOGS_SCHEMA_FIELDS());
      case 'CommandGetDbSchemas': return new Schema(DB_SCHEMAS_FIELDS());
      case 'CommandGetTableTypes': return new Schema(TABLE_TYPES_FIELDS());
      case 'CommandGetTables': return new Schema(TABLES_FIELDS((message as GetTablesCommand).include_schema === true));
      case 'CommandGetSqlInfo': return new Schema(sqlInfoFields());
      default: return undefined;
    }
  }

  async function catalogTable(name: string, message: Record<string, unknown>): Promise<Table | undefined> {
    switch (name) {
      case 'CommandGetCatalogs': return getCatalogs();
      case 'CommandGetDbSchemas': return getDbSchemas();
      case 'CommandGetTableTypes': return getTableTypes();
      case 'CommandGetTables': return getTables(message as GetTablesCommand, catalog);
      case 'CommandGetSqlInfo': return sqlInfoTable((message.info as number[] | undefined) ?? []);
      default: return undefined;
    }
  }

  function commandOf(descriptor: FlightDescriptor): { name: string; message: Record<string, unknown> } {
    if (descriptor.type !== DESCRIPTOR_CMD) {
      throw new FlightError(status.INVALID_ARGUMENT, 'only command descriptors (type CMD, a Flight SQL command in cmd) are supported');
    }
    return unpackAny(descriptor.cmd);
  }

  function statementTicket(handle: Buffer): Buffer {
    return packAny('TicketStatementQuery', { statement_handle: handle });
  }

  function unknownPrepared(): FlightError {
    return new FlightError(status.NOT_FOUND, 'unknown or expired prepared statement handle: prepare the statement again');
  }

  async function getFlightInfo(call: ServerUnaryCall<FlightDescriptor, FlightInfo>): Promise<FlightInfo> {
    await authenticate(call.metadata, opts.keys);
    const descriptor = call.request;
    const { name, message } = commandOf(descriptor);
    const range = timeRangeOf(call.metadata);
    if (name === 'CommandStatementQuery') {
      const sql = String(message.query ?? '');
      const { handle, schema } = await statements.ticket(sql, range, abortOnCancel(call));
      return flightInfo(descriptor, schema, statementTicket(handle));
    }
    if (name === 'CommandPreparedStatementQuery') {
      const got = await statements.executePrepared(message.prepared_statement_handle as Buffer ?? Buffer.alloc(0), range, abortOnCancel(call));
      if (!got) throw unknownPrepared();
      return flightInfo(descriptor, got.schema, statementTicket(got.handle));
    }
    const schema = catalogSchema(name, message);
    if (schema) return flightInfo(descriptor, schema, Buffer.from(descriptor.cmd ?? []));
    throw new FlightError(status.UNIMPLEMENTED, `GetFlightInfo does not support ${name}`);
  }

  async function getSchema(call: ServerUnaryCall<FlightDescriptor, SchemaResult>): Promise<SchemaResult> {
    await authenticate(call.metadata, opts.keys);
    const { name, message } = commandOf(call.request);
    if (name === 'CommandStatementQuery') {
      const schema = await statements.schemaOf(String(message.query ?? ''), timeRangeOf(call.metadata), abortOnCancel(call));
      return { schema: encapsulatedSchema(schema) };
    }
    if (name === 'CommandPreparedStatementQuery') {
      const schema = statements.preparedSchema(message.prepared_statement_handle as Buffer ?? Buffer.alloc(0));
      if (!schema) throw unknownPrepared();
      return { schema: encapsulatedSchema(schema) };
    }
    const schema = catalogSchema(name, message);
    if (schema) return { schema: encapsulatedSchema(schema) };
    throw new FlightError(status.UNIMPLEMENTED, `GetSchema does not support ${name}`);
  }

  async function doGet(call: ServerWritableStream<Ticket, FlightData>): Promise<void> {
    await authenticate(call.metadata, opts.keys);
    const { name, message } = unpackAny(call.request.ticket);
    const range = timeRangeOf(call.metadata);
    if (name === 'TicketStatementQuery' || name === 'CommandStatementQuery') {
      const statement = name === 'CommandStatementQuery'
        ? { sql: String(message.query ?? ''), range }
        : statements.resolveTicket(message.statement_handle as Buffer ?? Buffer.alloc(0), range);
      if (!statement) throw new FlightError(status.NOT_FOUND, 'unknown, expired or already read ticket: call GetFlightInfo again');
      await writeStream(call, await statements.stream(statement, abortOnCancel(call)), opts.maxBatchBytes);
      return;
    }
    const table = await catalogTable(name, message);
    if (!table) throw new FlightError(status.UNIMPLEMENTED, `DoGet does not support ${name}`);
    await writeAll(call, flightData(tableToIpcMessages(table, opts.maxBatchBytes)));
  }

  async function doAction(call: ServerWritableStream<Action, Result>): Promise<void> {
    await authenticate(call.metadata, opts.keys);
    const action = call.request;
    switch (action.type) {
      case 'CreatePreparedStatement': {
        const { name, message } = unpackAny(action.body);
        if (name !== 'ActionCreatePreparedStatementRequest') throw new FlightError(status.INVALID_ARGUMENT, `CreatePreparedStatement expects ActionCreatePreparedStatementRequest, got ${name}`);
        const { handle, schema, parameterSchema } = await statements.prepare(String(message.query ?? ''), timeRangeOf(call.metadata), abortOnCancel(call));
        const body = packAny('ActionCreatePreparedStatementResult', {
          prepared_statement_handle: handle,
          dataset_schema: encapsulatedSchema(schema),
          parameter_schema: encapsulatedSchema(parameterSchema),
        });
        return writeAll(call, [{ body }]);
      }
      case 'ClosePreparedStatement': {
        const { name, message } = unpackAny(action.body);
        if (name !== 'ActionClosePreparedStatementRequest') throw new FlightError(status.INVALID_ARGUMENT, `ClosePreparedStatement expects ActionClosePreparedStatementRequest, got ${name}`);
        statements.closePrepared(message.prepared_statement_handle as Buffer ?? Buffer.alloc(0));
        return writeAll(call, []);
      }
      case 'CloseSession':
        return writeAll(call, [{ body: encodeMessage(`${FLIGHT_PACKAGE}.CloseSessionResult`, { status: 1 }) }]);
      default:
        throw new FlightError(status.UNIMPLEMENTED, `unknown action "${action.type}"; supported: ${ACTIONS.map((a) => a.type).join(', ')}`);
    }
  }

  /**
   * DoPut binds a prepared statement's parameters (CommandPreparedStatementQuery in the first message's
   * descriptor, then an Arrow stream of one row); anything else is refused: Sirius is read-only. The stream
   * is read to its end (at most MAX_PUT_BYTES) before binding, and answered with no PutResult, which clients
   * take as "keep using the handle you have".
   */
  function doPut(call: ServerDuplexStream<FlightData, unknown>): void {
    const messages: FlightData[] = [];
    let bytes = 0;
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      call.emit('error', toGrpcError(err));
    };
    call.on('error', () => undefined);
    // the stream holds incoming messages until a 'data' listener is attached, after the key is checked
    authenticate(call.metadata, opts.keys).then(() => {
      call.on('data', (m: FlightData) => {
        bytes += (m.data_header?.byteLength ?? 0) + (m.data_body?.byteLength ?? 0);
        if (bytes > MAX_PUT_BYTES) fail(new FlightError(status.INVALID_ARGUMENT, `DoPut: more than ${MAX_PUT_BYTES} bytes of parameters`));
        else messages.push(m);
      });
      call.on('end', () => {
        if (failed) return;
        try {
          bindFromPut(messages);
          call.end();
        } catch (err) {
          fail(err);
        }
      });
    }, fail);
  }

  function bindFromPut(messages: FlightData[]): void {
    const descriptor = messages[0]?.flight_descriptor;
    if (!descriptor) throw new FlightError(status.INVALID_ARGUMENT, 'DoPut: the first message must carry a command in its flight descriptor');
    const { name, message } = commandOf(descriptor);
    if (name !== 'CommandPreparedStatementQuery') {
      throw new FlightError(status.UNIMPLEMENTED, `Sirius is read-only: DoPut only binds prepared-statement parameters (CommandPreparedStatementQuery), not ${name}`);
    }
    const ipc = joinIpcMessages(messages.filter((m) => (m.data_header?.byteLength ?? 0) > 0).map((m) => ({ header: m.data_header!, body: m.data_body ?? new Uint8Array(0) })));
    let batch: Table;
    try {
      batch = tableFromIPC(ipc);
    } catch (err) {
      throw new FlightError(status.INVALID_ARGUMENT, `DoPut: the parameters are not an Arrow stream: ${(err as Error).message}`);
    }
    if (!statements.bind(message.prepared_statement_handle as Buffer ?? Buffer.alloc(0), parameterLiterals(batch))) throw unknownPrepared();
  }

  /** accepts every handshake when no keys are configured; hands the key back as a bearer token either way */
  function handshake(call: ServerDuplexStream<HandshakeMessage, HandshakeMessage>): void {
    call.on('error', () => undefined);
    authenticate(call.metadata, opts.keys).then((key) => {
      const md = new Metadata();
      if (key !== undefined) md.set('authorization', `Bearer ${key}`);
      call.sendMetadata(md);
      call.on('data', (req: HandshakeMessage) => {
        call.write({ protocol_version: req.protocol_version ?? 0, payload: key !== undefined ? Buffer.from(key) : (req.payload ?? Buffer.alloc(0)) });
      });
      call.on('end', () => call.end());
    }, (err) => call.emit('error', toGrpcError(err)));
  }

  const unary = <Req, Res>(fn: (call: ServerUnaryCall<Req, Res>) => Promise<Res>) =>
    (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      fn(call).then((res) => callback(null, res), (err) => callback(toGrpcError(err)));
    };
  const streaming = <Req, Res>(fn: (call: ServerWritableStream<Req, Res>) => Promise<void>) =>
    (call: ServerWritableStream<Req, Res>) => {
      fn(call).catch((err) => {
        if (!call.cancelled) call.emit('error', toGrpcError(err));
      });
    };

  const implementation: UntypedServiceImplementation = {
    Handshake: handshake,
    GetFlightInfo: unary(getFlightInfo),
    GetSchema: unary(getSchema),
    DoGet: streaming(doGet),
    DoAction: streaming(doAction),
    ListActions: streaming(async (call: ServerWritableStream<unknown, ActionType>) => {
      await authenticate(call.metadata, opts.keys);
      await writeAll(call, ACTIONS);
    }),
    ListFlights: streaming(async (call: ServerWritableStream<unknown, FlightInfo>) => {
      await authenticate(call.metadata, opts.keys);
      await writeAll(call, []);
    }),
    DoPut: doPut,
    DoExchange: (call: ServerDuplexStream<FlightData, FlightData>) => {
      call.on('data', () => undefined);
      call.on('error', () => undefined);
      call.emit('error', new FlightError(status.UNIMPLEMENTED, 'DoExchange is not supported'));
    },
  };
  return { implementation, clear: () => statements.clear() };
}

function* flightData(messages: Iterable<IpcMessage>): Generator<FlightData> {
  for (const m of messages) yield { data_header: m.header, data_body: m.body };
}

/** writes one message; when gRPC's buffer is full, waits for 'drain' (or the client leaving) */
async function write<T>(call: ServerWritableStream<unknown, T>, message: T): Promise<void> {
  if (call.write(message)) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      call.off('drain', done);
      call.off('cancelled', done);
      call.off('close', done);
      resolve();
    };
    call.on('drain', done);
    call.on('cancelled', done);
    call.on('close', done);
  });
}

/** writes with backpressure, stops if the client goes away, then ends the call */
async function writeAll<T>(call: ServerWritableStream<unknown, T>, messages: Iterable<T>): Promise<void> {
  for (const m of messages) {
    if (call.cancelled) return;
    await write(call, m);
  }
  if (!call.cancelled) call.end();
}

/**
 * Sends a query's result as it is produced: the schema, then each batch once gRPC has room for it, so the
 * next batch is only computed when the client has taken the last (memory stays at about one batch).
 */
async function writeStream(call: ServerWritableStream<unknown, FlightData>, stream: QueryStream, maxBatchBytes?: number): Promise<void> {
  try {
    const schema = schemaMessage(stream.schema);
    await write(call, { data_header: schema.header, data_body: schema.body });
    for (;;) {
      if (call.cancelled) return;
      const batch = await stream.next();
      if (!batch) break;
      for (const m of batchIpcMessages(stream.schema, batch, maxBatchBytes)) {
        if (call.cancelled) return;
        await write(call, { data_header: m.header, data_body: m.body });
      }
    }
    call.end();
  } finally {
    await stream.close();
  }
}
