import { ByteReader, truncated } from './byte-reader.js';
import { decodePayload } from './decode-payload.js';
import { resolveLimits } from './limits.js';
import { TransitError } from './model.js';
import type { BlockMeta, Codec, DecodeLimits, TransitEvent } from './model.js';
import { readUuid, writeUuid } from './uuid.js';
import { SUPPORTED_VERSIONS, TRANSIT_VERSION } from './payload-layout.js';

export { TRANSIT_VERSION } from './payload-layout.js';

/** "SIRB": the first four bytes of every block envelope. */
export const BLOCK_MAGIC = new Uint8Array([0x53, 0x49, 0x52, 0x42]);

/** Size of the fixed envelope header; the compressed payload follows it. */
export const ENVELOPE_HEADER_BYTES = 100;

const MIN_I64 = -0x8000000000000000n;
const MAX_I64 = 0x7fffffffffffffffn;

/**
 * Wraps a payload into the envelope that `POST /ingestion/insert_block` carries and the object store keeps.
 * Throws TransitError('corrupt', '<field>: …') if `meta` cannot be represented.
 *
 * @example
 * const body = encodeBlock(meta, encoder.finish(), lz4Codec);
 * await fetch(`${url}/ingestion/insert_block`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
 */
export function encodeBlock(meta: BlockMeta, payload: Uint8Array, codec: Codec, version = TRANSIT_VERSION): Uint8Array {
  if (!SUPPORTED_VERSIONS.includes(version)) throw new TransitError('unsupported_version', `transit version ${version} is not supported`);
  for (const f of ['begin_time', 'begin_ticks', 'end_time', 'end_ticks'] as const) {
    const v = meta[f];
    if (typeof v !== 'bigint' || v < MIN_I64 || v > MAX_I64) throw new TransitError('corrupt', `${f}: not a signed 64-bit bigint`);
  }
  if (!Number.isInteger(meta.nb_objects) || meta.nb_objects < 0 || meta.nb_objects > 0xffffffff) {
    throw new TransitError('corrupt', 'nb_objects: not an integer in 0..2^32-1');
  }
  if (payload.length > 0xffffffff) throw new TransitError('limit_exceeded', 'payload larger than 4 GiB');
  const compressed = codec.compress(payload);
  if (compressed.length > 0xffffffff) throw new TransitError('limit_exceeded', 'compressed payload larger than 4 GiB');
  const out = new Uint8Array(ENVELOPE_HEADER_BYTES + compressed.length);
  writeUuid(out, 16, meta.block_id, 'block_id');
  writeUuid(out, 32, meta.stream_id, 'stream_id');
  writeUuid(out, 48, meta.process_id, 'process_id');
  const view = new DataView(out.buffer);
  out.set(BLOCK_MAGIC, 0);
  out[4] = version;
  out[5] = codec.id;
  view.setUint16(6, 0, true);
  view.setUint32(8, payload.length, true);
  view.setUint32(12, compressed.length, true);
  view.setBigInt64(64, meta.begin_time, true);
  view.setBigInt64(72, meta.begin_ticks, true);
  view.setBigInt64(80, meta.end_time, true);
  view.setBigInt64(88, meta.end_ticks, true);
  view.setUint32(96, meta.nb_objects, true);
  out.set(compressed, ENVELOPE_HEADER_BYTES);
  return out;
}

export interface BlockHeader {
  meta: BlockMeta;
  version: number;
  codecId: number;
  uncompressedSize: number;
  /** a view into `bytes`, not a copy */
  compressed: Uint8Array;
}

/**
 * Reads the envelope without decompressing: what ingestion needs to index a block and store it as is.
 * Checks magic, version, sizes and limits; throws only TransitError.
 */
export function decodeBlockHeader(bytes: Uint8Array, limits?: DecodeLimits): BlockHeader {
  if (!(bytes instanceof Uint8Array)) throw new TransitError('corrupt', 'block is not a Uint8Array');
  const lim = resolveLimits(limits);
  if (bytes.length < 4) throw truncated();
  for (let i = 0; i < 4; i++) if (bytes[i] !== BLOCK_MAGIC[i]) throw new TransitError('bad_magic', 'not a Sirius transit block');
  if (bytes.length < 5) throw truncated();
  const version = bytes[4]!;
  if (!SUPPORTED_VERSIONS.includes(version)) {
    throw new TransitError('unsupported_version', `transit version ${version} is not supported (this decoder reads ${SUPPORTED_VERSIONS.join(' and ')})`);
  }
  if (bytes.length < ENVELOPE_HEADER_BYTES) throw truncated();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const codecId = bytes[5]!;
  if (view.getUint16(6, true) !== 0) throw new TransitError('corrupt', 'reserved envelope bytes are not zero');
  const uncompressedSize = view.getUint32(8, true);
  const compressedSize = view.getUint32(12, true);
  if (uncompressedSize > lim.maxPayloadBytes) {
    throw new TransitError('limit_exceeded', `uncompressed_size: payload of ${uncompressedSize} bytes exceeds maxPayloadBytes ${lim.maxPayloadBytes}`);
  }
  const nbObjects = view.getUint32(96, true);
  if (nbObjects > lim.maxEvents) throw new TransitError('limit_exceeded', `nb_objects: ${nbObjects} events exceed maxEvents ${lim.maxEvents}`);
  const r = new ByteReader(bytes, ENVELOPE_HEADER_BYTES);
  if (compressedSize > r.remaining) throw truncated();
  if (compressedSize < r.remaining) throw new TransitError('corrupt', 'trailing bytes after the compressed payload');
  const meta: BlockMeta = {
    block_id: readUuid(bytes, 16),
    stream_id: readUuid(bytes, 32),
    process_id: readUuid(bytes, 48),
    begin_time: view.getBigInt64(64, true),
    begin_ticks: view.getBigInt64(72, true),
    end_time: view.getBigInt64(80, true),
    end_ticks: view.getBigInt64(88, true),
    nb_objects: nbObjects,
  };
  return { meta, version, codecId, uncompressedSize, compressed: bytes.subarray(ENVELOPE_HEADER_BYTES) };
}

/**
 * Decompresses a block's payload with the matching codec, checking its size against the header and limits.
 * Codec failures become TransitError('corrupt').
 */
export function decompressBlock(header: BlockHeader, codecs: readonly Codec[]): Uint8Array {
  const codec = codecs.find((c) => c.id === header.codecId);
  if (!codec) throw new TransitError('corrupt', `unknown codec id ${header.codecId}`);
  let payload: Uint8Array;
  try {
    payload = codec.decompress(header.compressed, header.uncompressedSize);
  } catch (e) {
    if (e instanceof TransitError) throw e;
    throw new TransitError('corrupt', `codec ${header.codecId} failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!(payload instanceof Uint8Array) || payload.length !== header.uncompressedSize) {
    throw new TransitError('corrupt', `decompressed payload size does not match the header's ${header.uncompressedSize} bytes`);
  }
  return payload;
}

/**
 * Decodes a whole envelope into events; the event count must equal `nb_objects`.
 *
 * @example
 * const { meta, events } = decodeBlock(body, [noCompression, lz4Codec]);
 */
export function decodeBlock(bytes: Uint8Array, codecs: readonly Codec[], limits?: DecodeLimits): { meta: BlockMeta; events: TransitEvent[] } {
  const header = decodeBlockHeader(bytes, limits);
  const payload = decompressBlock(header, codecs);
  const events = decodePayload(payload, limits, header.meta.nb_objects, header.version);
  return { meta: header.meta, events };
}
