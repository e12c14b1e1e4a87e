/**
 * An OTLP/HTTP export, from its bytes to stored blocks, all or nothing: the whole request is decoded,
 * converted and every process, stream and block validated before anything is written, so a request refused
 * (400, 413) stores nothing. Everything before the first write is a pure function of the bytes: whatever it
 * throws is the request's fault and answers 400, never 500 (exporters retry a 500 forever).
 *
 * A re-sent request makes the same block ids and bytes (otlp-common.ts): blocks whose rows exist are skipped
 * and the rest are stored as any retried block is (create-only objects: same bytes, same answer), so an
 * exporter retrying after a timeout duplicates nothing.
 *
 * @example
 *   const data = convertOtlpRequest('logs', bytes, 'application/x-protobuf', otlpLogsToSirius);
 *   await storeOtlp(lake.sql, deps, data);
 */
import { validateProcessInfo, validateStreamInfo, TransitError, type BlockMeta, type DecodeLimits, type ProcessInfo, type StreamInfo } from '@sirius/transit';
import { insertProcess } from '../lake/process-repository.js';
import { insertStream } from '../lake/stream-repository.js';
import type { SqlClient } from '../lake/sql-client.js';
import { storeBlock, type BlockIngestorDeps } from './block-ingestor.js';
import { HttpError } from './http-error.js';
import { DEFAULT_OTLP_LIMITS, requestKey, type ConvertOptions, type OtlpLimits, type SiriusData } from './otlp-common.js';
import { decodeOtlpProtobuf, type OtlpSignal } from './otlp-protobuf.js';
import { validateBlock } from './validate-block.js';

export type OtlpConverter = (body: unknown, opts: ConvertOptions) => SiriusData;

/** A request converted and validated: each block with the header validation read from it. */
export interface CheckedOtlpRequest {
  processes: ProcessInfo[];
  streams: StreamInfo[];
  blocks: { envelope: Uint8Array; meta: BlockMeta }[];
}

/** `protobuf` or `json` from the request's content type; 415 for anything else. */
export function otlpEncoding(signal: OtlpSignal, contentType: string): 'protobuf' | 'json' {
  if (/protobuf/i.test(contentType)) return 'protobuf';
  if (/json/i.test(contentType)) return 'json';
  throw new HttpError(415, `OTLP ${signal}: send application/x-protobuf or application/json, not ${JSON.stringify(contentType)}`);
}

/**
 * Decodes, converts and validates a request: what `storeOtlp` then writes. Throws only HttpError (400, 413).
 * `now` is the time of a request none of whose records has one.
 */
export function convertOtlpRequest(
  signal: OtlpSignal,
  bytes: Uint8Array,
  encoding: 'protobuf' | 'json',
  convert: OtlpConverter,
  decodeLimits: DecodeLimits,
  limits: OtlpLimits = DEFAULT_OTLP_LIMITS,
  now: bigint = BigInt(Date.now()) * 1_000_000n,
): CheckedOtlpRequest {
  try {
    const body = encoding === 'protobuf' ? decodeOtlpProtobuf(signal, bytes, limits) : parseJson(bytes);
    const data = convert(body, { key: `${encoding} ${requestKey(bytes)}`, limits, now: () => now });
    return {
      processes: data.processes.map((p) => validateProcessInfo(p)),
      streams: data.streams.map((s) => validateStreamInfo(s)),
      blocks: data.blocks.map((envelope) => ({ envelope, meta: validateBlock(envelope, decodeLimits) })),
    };
  } catch (err) {
    if (err instanceof HttpError) throw err;
    // a stack exhausted by nesting, a value no block can hold: the request's, whatever the path that found it
    const reason = err instanceof TransitError || err instanceof Error ? err.message : String(err);
    throw new HttpError(400, `OTLP ${signal}: malformed request: ${reason}`);
  }
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new HttpError(400, `body is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * Writes a converted request: processes, then streams, then the blocks not already stored. A stream id held
 * by another process is refused (400) before the first write.
 */
export async function storeOtlp(sql: SqlClient, deps: BlockIngestorDeps, data: CheckedOtlpRequest): Promise<void> {
  for (const s of data.streams) {
    const owner = await deps.streams.owner(s.stream_id);
    if (owner !== null && owner !== s.process_id) throw new HttpError(400, `stream ${s.stream_id} belongs to process ${owner}, not ${s.process_id}`);
  }
  const stored = await storedBlocks(sql, data.blocks.map((b) => b.meta.block_id));
  for (const p of data.processes) await insertProcess(sql, p);
  for (const s of data.streams) if (await insertStream(sql, s)) deps.streams.remember(s.stream_id, s.process_id);
  // validated once, in convertOtlpRequest
  for (const b of data.blocks) if (!stored.has(b.meta.block_id)) await storeBlock(deps, b.envelope, b.meta);
}

async function storedBlocks(sql: SqlClient, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await sql.query<{ block_id: string }>('SELECT block_id FROM blocks WHERE block_id = ANY($1::text[])', [ids]);
  return new Set(rows.map((r) => r.block_id));
}
