/**
 * A Flight SQL client for tests: grpc-js built from the server's own protos, with the calls the tests make
 * (GetFlightInfo for a command, DoGet of its ticket into an Arrow table, actions).
 */
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { tableFromIPC, type Table } from 'apache-arrow';
import { DESCRIPTOR_CMD, FLIGHT_SERVICE, packAny, type FlightData, type FlightInfo, type SqlMessageName } from '../../src/endpoints/flight-sql/protocol.js';
import { joinIpcMessages } from '../../src/endpoints/flight-sql/ipc-messages.js';

export type Client = grpc.Client & Record<string, (...args: unknown[]) => unknown>;
const FlightClient = grpc.makeGenericClientConstructor(FLIGHT_SERVICE, 'FlightService');

export function connect(port: number): Client {
  return new FlightClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as Client;
}

export function md(headers: Record<string, string>): grpc.Metadata {
  const m = new grpc.Metadata();
  for (const [k, v] of Object.entries(headers)) m.set(k, v);
  return m;
}

export function unaryCall<T>(c: Client, method: string, req: object, meta: grpc.Metadata): Promise<T> {
  return new Promise((resolve, reject) => {
    c[method]!(req, meta, (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res)));
  });
}

export function streamCall<T>(c: Client, method: string, req: object, meta: grpc.Metadata): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const out: T[] = [];
    const s = c[method]!(req, meta) as grpc.ClientReadableStream<T>;
    s.on('data', (m: T) => out.push(m));
    s.on('error', reject);
    s.on('end', () => resolve(out));
  });
}

export const cmd = (name: SqlMessageName, value: object) => ({ type: DESCRIPTOR_CMD, cmd: packAny(name, value) });

export async function flightInfo(c: Client, name: SqlMessageName, value: object, meta: grpc.Metadata): Promise<FlightInfo> {
  return unaryCall<FlightInfo>(c, 'GetFlightInfo', cmd(name, value), meta);
}

export async function readTicket(c: Client, info: FlightInfo, meta: grpc.Metadata): Promise<{ table: Table; messages: FlightData[] }> {
  assert.equal(info.endpoint?.length, 1);
  const messages = await streamCall<FlightData>(c, 'DoGet', info.endpoint![0]!.ticket!, meta);
  const ipc = joinIpcMessages(messages.map((m) => ({ header: m.data_header ?? new Uint8Array(0), body: m.data_body ?? new Uint8Array(0) })));
  return { table: tableFromIPC(ipc), messages };
}

