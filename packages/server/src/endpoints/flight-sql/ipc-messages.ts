/**
 * Arrow IPC ⇄ Flight framing. Flight sends an Arrow IPC stream one message at a time: each FlightData
 * carries one IPC message's flatbuffer metadata (`data_header`) and its body (`data_body`), without the
 * stream's length prefixes. apache-arrow writes whole streams, so we write one and split it at the
 * message boundaries the IPC streaming format defines:
 *
 *   <0xFFFFFFFF continuation> <int32 metadata length> <flatbuffer Message, padded to 8> <body: bodyLength bytes>
 *   … and an end-of-stream marker <0xFFFFFFFF> <0x00000000>.
 *
 * @example
 *   for (const m of tableToIpcMessages(table)) call.write({ data_header: m.header, data_body: m.body });
 *   const info = { schema: encapsulatedSchema(table.schema), … };
 */
import { Message, RecordBatch, RecordBatchStreamWriter, Table, type Schema } from 'apache-arrow';

export interface IpcMessage {
  /** the flatbuffer `Message` (schema, dictionary batch or record batch header) */
  header: Uint8Array;
  /** the message body; empty for a schema message */
  body: Uint8Array;
}

const CONTINUATION = 0xffffffff;

export class IpcFramingError extends Error {
  override readonly name = 'IpcFramingError';
}

/** Splits an IPC stream into its messages (views into `bytes`, not copies); stops at end-of-stream. */
export function splitIpcStream(bytes: Uint8Array): IpcMessage[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: IpcMessage[] = [];
  let at = 0;
  while (at + 4 <= bytes.byteLength) {
    let len = view.getUint32(at, true);
    at += 4;
    // pre-1.0 streams omit the continuation marker; accept both
    if (len === CONTINUATION) {
      if (at + 4 > bytes.byteLength) throw new IpcFramingError('truncated IPC stream: a length is missing after the continuation marker');
      len = view.getUint32(at, true);
      at += 4;
    }
    if (len === 0) break;
    if (at + len > bytes.byteLength) throw new IpcFramingError(`truncated IPC stream: metadata of ${len} bytes at offset ${at} runs past the end`);
    const header = bytes.subarray(at, at + len);
    at += len;
    const bodyLength = Number(Message.decode(header).bodyLength);
    if (at + bodyLength > bytes.byteLength) throw new IpcFramingError(`truncated IPC stream: body of ${bodyLength} bytes at offset ${at} runs past the end`);
    out.push({ header, body: bytes.subarray(at, at + bodyLength) });
    at += bodyLength;
  }
  return out;
}

/** The inverse, for clients: FlightData messages back into an IPC stream `tableFromIPC` reads. */
export function joinIpcMessages(messages: Iterable<{ header: Uint8Array; body: Uint8Array }>): Uint8Array {
  return Buffer.concat([...ipcStreamParts(messages)]);
}

/** The byte pieces of an IPC stream holding `messages`, end-of-stream marker included, made as asked for. */
export function* ipcStreamParts(messages: Iterable<{ header: Uint8Array; body: Uint8Array }>): Generator<Uint8Array> {
  for (const m of messages) {
    const padded = (m.header.byteLength + 7) & ~7;
    const prefix = new Uint8Array(8);
    const dv = new DataView(prefix.buffer);
    dv.setUint32(0, CONTINUATION, true);
    dv.setUint32(4, padded, true);
    yield prefix;
    yield m.header;
    if (padded > m.header.byteLength) yield new Uint8Array(padded - m.header.byteLength);
    if (m.body.byteLength > 0) yield m.body;
  }
  yield Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
}

/** A schema as Flight carries it in FlightInfo.schema and prepared-statement results: one encapsulated IPC message. */
export function encapsulatedSchema(schema: Schema): Uint8Array {
  const stream = RecordBatchStreamWriter.writeAll(new Table(schema)).toUint8Array(true);
  const len = new DataView(stream.buffer, stream.byteOffset, stream.byteLength).getUint32(4, true);
  return stream.slice(0, 8 + len);
}

/** The schema message that opens an IPC stream. */
export function schemaMessage(schema: Schema): IpcMessage {
  return splitIpcStream(RecordBatchStreamWriter.writeAll(new Table(schema)).toUint8Array(true))[0]!;
}

/**
 * One record batch's IPC messages (no schema message), re-cut so none is much over `maxBatchBytes`: gRPC
 * clients commonly refuse messages over 4 MiB (Go's and Java's defaults), and one DuckDB chunk of wide
 * strings can exceed that.
 */
export function* batchIpcMessages(schema: Schema, whole: RecordBatch, maxBatchBytes = 2 * 1024 * 1024): Generator<IpcMessage> {
  const bytes = batchBytes(whole);
  const rowsPer = bytes <= maxBatchBytes || whole.numRows <= 1
    ? Math.max(1, whole.numRows)
    : Math.max(1, Math.floor(whole.numRows / Math.ceil(bytes / maxBatchBytes)));
  for (let start = 0; start < whole.numRows; start += rowsPer) {
    const batch = whole.slice(start, Math.min(whole.numRows, start + rowsPer));
    // every one-batch stream starts with the schema: the caller sends it once
    yield* splitIpcStream(RecordBatchStreamWriter.writeAll(new Table(schema, [batch])).toUint8Array(true)).slice(1);
  }
}

/**
 * The table's IPC messages: the schema, then its record batches re-cut as `batchIpcMessages` does. Lazy:
 * each batch is serialized when the caller asks for it, so sending a result never holds a second,
 * serialized copy of all of it.
 */
export function* tableToIpcMessages(table: Table, maxBatchBytes = 2 * 1024 * 1024): Generator<IpcMessage> {
  yield schemaMessage(table.schema);
  for (const whole of table.batches) yield* batchIpcMessages(table.schema, whole, maxBatchBytes);
}

function batchBytes(batch: RecordBatch): number {
  let n = 0;
  for (const child of batch.data.children) n += child.byteLength;
  return n;
}
