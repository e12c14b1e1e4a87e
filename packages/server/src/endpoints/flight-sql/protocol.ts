/**
 * The Flight and Flight SQL wire messages, loaded from the `.proto` files next to this module with
 * protobufjs, and the gRPC service definition grpc-js needs for both the server and test clients.
 * Encoding is done here rather than through @grpc/proto-loader so bytes fields stay `Buffer`s end to end
 * and Flight SQL's `google.protobuf.Any` envelopes are unpacked by type name.
 *
 * @example
 *   const any = packAny('CommandStatementQuery', { query: 'SELECT 1' });
 *   const descriptor = { type: 2, cmd: any };          // FlightDescriptor for GetFlightInfo
 *   const { name, message } = unpackAny(descriptor.cmd); // 'CommandStatementQuery', { query: 'SELECT 1' }
 */
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import type { ServiceDefinition } from '@grpc/grpc-js';

const PROTO_DIR = fileURLToPath(new URL('./proto/', import.meta.url));
const root = new protobuf.Root();
root.loadSync(['flight.proto', 'flight-sql.proto', 'any.proto'].map((f) => PROTO_DIR + f), { keepCase: true });

export const FLIGHT_PACKAGE = 'arrow.flight.protocol';
export const SQL_PACKAGE = 'arrow.flight.protocol.sql';
export const TYPE_URL_PREFIX = 'type.googleapis.com/';

/** the Flight SQL messages this server reads or writes inside an Any */
export type SqlMessageName =
  | 'CommandGetSqlInfo'
  | 'CommandGetCatalogs'
  | 'CommandGetDbSchemas'
  | 'CommandGetTables'
  | 'CommandGetTableTypes'
  | 'CommandStatementQuery'
  | 'TicketStatementQuery'
  | 'CommandPreparedStatementQuery'
  | 'ActionCreatePreparedStatementRequest'
  | 'ActionCreatePreparedStatementResult'
  | 'ActionClosePreparedStatementRequest';

// Plain shapes of the messages (keepCase: proto field names). Optional proto3 fields read back as absent.
export interface FlightDescriptor { type?: number; cmd?: Uint8Array; path?: string[] }
export interface Ticket { ticket?: Uint8Array }
export interface FlightEndpoint { ticket?: Ticket; location?: { uri: string }[]; app_metadata?: Uint8Array }
export interface FlightInfo {
  schema?: Uint8Array;
  flight_descriptor?: FlightDescriptor;
  endpoint?: FlightEndpoint[];
  total_records?: number | bigint | { toString(): string };
  total_bytes?: number | bigint | { toString(): string };
  ordered?: boolean;
  app_metadata?: Uint8Array;
}
export interface FlightData { flight_descriptor?: FlightDescriptor; data_header?: Uint8Array; app_metadata?: Uint8Array; data_body?: Uint8Array }
export interface Action { type?: string; body?: Uint8Array }
export interface Result { body?: Uint8Array }
export interface ActionType { type: string; description: string }
export interface SchemaResult { schema?: Uint8Array }
export interface HandshakeMessage { protocol_version?: number | { toString(): string }; payload?: Uint8Array }

/** FlightDescriptor.DescriptorType.CMD */
export const DESCRIPTOR_CMD = 2;

function type(fullName: string): protobuf.Type {
  return root.lookupType(fullName);
}

export function encodeMessage(fullName: string, value: object): Buffer {
  const t = type(fullName);
  const bytes = t.encode(t.fromObject(value)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Decodes to a plain object; unset optional fields stay absent so presence checks work. */
export function decodeMessage<T>(fullName: string, bytes: Uint8Array): T {
  const t = type(fullName);
  return t.toObject(t.decode(bytes), { longs: String, bytes: Buffer, defaults: false, arrays: true }) as T;
}

export class BadCommandError extends Error {
  override readonly name: string = 'BadCommandError';
}

/** a well-formed Flight SQL command this server does not implement (GetPrimaryKeys, DoPut updates…) */
export class UnsupportedCommandError extends BadCommandError {
  override readonly name = 'UnsupportedCommandError';
}

/** Wraps a Flight SQL message in the `google.protobuf.Any` Flight SQL expects. */
export function packAny(name: SqlMessageName, value: object): Buffer {
  return encodeMessage('google.protobuf.Any', {
    type_url: `${TYPE_URL_PREFIX}${SQL_PACKAGE}.${name}`,
    value: encodeMessage(`${SQL_PACKAGE}.${name}`, value),
  });
}

/** Reads an Any-packed Flight SQL message; the name says which one it is. */
export function unpackAny(bytes: Uint8Array | undefined): { name: string; message: Record<string, unknown> } {
  if (!bytes || bytes.byteLength === 0) throw new BadCommandError('the command is empty: expected a Flight SQL command packed in google.protobuf.Any');
  let any: { type_url?: string; value?: Buffer };
  try {
    any = decodeMessage('google.protobuf.Any', bytes);
  } catch (err) {
    throw new BadCommandError(`the command is not a google.protobuf.Any: ${(err as Error).message}`);
  }
  const url = any.type_url ?? '';
  const slash = url.lastIndexOf('/');
  const full = slash >= 0 ? url.slice(slash + 1) : url;
  if (!full.startsWith(`${SQL_PACKAGE}.`)) throw new BadCommandError(`unsupported command type "${url}"`);
  const name = full.slice(SQL_PACKAGE.length + 1);
  let t: protobuf.Type;
  try {
    t = type(full);
  } catch {
    throw new UnsupportedCommandError(`Sirius does not implement the Flight SQL command ${name}`);
  }
  try {
    const message = t.toObject(t.decode(any.value ?? Buffer.alloc(0)), { longs: String, bytes: Buffer, defaults: false, arrays: true });
    return { name, message };
  } catch (err) {
    throw new BadCommandError(`cannot decode ${name}: ${(err as Error).message}`);
  }
}

const FLIGHT_DATA_BODY_TAG = Buffer.from([0xc2, 0x3e]); // field 1000, wire type 2

/**
 * FlightData is the bulk of every DoGet, so it is framed by hand: one allocation, the body copied once,
 * instead of protobufjs growing a writer around a multi-megabyte field.
 */
export function encodeFlightData(m: FlightData): Buffer {
  const header = m.data_header ?? new Uint8Array(0);
  const body = m.data_body ?? new Uint8Array(0);
  const parts: Uint8Array[] = [];
  if (m.flight_descriptor) {
    const d = encodeMessage(`${FLIGHT_PACKAGE}.FlightDescriptor`, m.flight_descriptor);
    parts.push(Buffer.from([0x0a]), varint(d.byteLength), d);
  }
  if (header.byteLength > 0) parts.push(Buffer.from([0x12]), varint(header.byteLength), header);
  if (m.app_metadata && m.app_metadata.byteLength > 0) parts.push(Buffer.from([0x1a]), varint(m.app_metadata.byteLength), m.app_metadata);
  if (body.byteLength > 0) parts.push(FLIGHT_DATA_BODY_TAG, varint(body.byteLength), body);
  return Buffer.concat(parts);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

interface MethodShape {
  requestType: string;
  responseType: string;
  requestStream: boolean;
  responseStream: boolean;
}

const METHODS: Record<string, MethodShape> = {
  Handshake: { requestType: 'HandshakeRequest', responseType: 'HandshakeResponse', requestStream: true, responseStream: true },
  ListFlights: { requestType: 'Criteria', responseType: 'FlightInfo', requestStream: false, responseStream: true },
  GetFlightInfo: { requestType: 'FlightDescriptor', responseType: 'FlightInfo', requestStream: false, responseStream: false },
  GetSchema: { requestType: 'FlightDescriptor', responseType: 'SchemaResult', requestStream: false, responseStream: false },
  DoGet: { requestType: 'Ticket', responseType: 'FlightData', requestStream: false, responseStream: true },
  DoPut: { requestType: 'FlightData', responseType: 'PutResult', requestStream: true, responseStream: true },
  DoExchange: { requestType: 'FlightData', responseType: 'FlightData', requestStream: true, responseStream: true },
  DoAction: { requestType: 'Action', responseType: 'Result', requestStream: false, responseStream: true },
  ListActions: { requestType: 'Empty', responseType: 'ActionType', requestStream: false, responseStream: true },
};

function serializer(name: string): (value: object) => Buffer {
  if (name === 'FlightData') return (v) => encodeFlightData(v as FlightData);
  return (v) => encodeMessage(`${FLIGHT_PACKAGE}.${name}`, v);
}

function deserializer(name: string): (bytes: Buffer) => object {
  return (b) => decodeMessage(`${FLIGHT_PACKAGE}.${name}`, b);
}

/** `arrow.flight.protocol.FlightService` for grpc-js: `server.addService(FLIGHT_SERVICE, impl)` or a generic client. */
export const FLIGHT_SERVICE: ServiceDefinition = Object.fromEntries(
  Object.entries(METHODS).map(([method, m]) => [
    method,
    {
      path: `/${FLIGHT_PACKAGE}.FlightService/${method}`,
      requestStream: m.requestStream,
      responseStream: m.responseStream,
      requestSerialize: serializer(m.requestType),
      requestDeserialize: deserializer(m.requestType),
      responseSerialize: serializer(m.responseType),
      responseDeserialize: deserializer(m.responseType),
      originalName: method[0]!.toLowerCase() + method.slice(1),
    },
  ]),
) as ServiceDefinition;
