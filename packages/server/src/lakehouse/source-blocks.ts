/**
 * Finds the blocks a view is made from, joined with what every row repeats (process identity, clock rate),
 * and loads their payloads as columns. One SQL statement per lookup, whatever the number of blocks.
 */
import { decodeBlockHeader, decodeColumns, decodeLogsWithoutData, decompressBlock, joinSections, packedDataSection, TransitError, type TransitColumns } from '@sirius/transit';
import { createLog } from '../log.js';
import { checkColumnsExpansion } from '../lake/block-expansion.js';
import { lz4Codec, transitCodecs } from '../lake/lz4-codec.js';
import { lz4BlockSound } from './direct-parquet-encoding.js';
import { mapLimit } from './abort.js';
import { blobKey, ObjectNotFoundError, type ObjectStore } from '../lake/object-store.js';
import { toBlockRecord, type BlockRecord } from '../lake/block-repository.js';
import type { SqlClient } from '../lake/sql-client.js';

const log = createLog('lakehouse');

/** A `blocks` row (as the lake stores it) with the process columns every view row repeats. */
export interface SourceBlock extends Omit<BlockRecord, 'object_offset' | 'payload_size' | 'insert_time'> {
  insert_time: bigint;
  exe: string;
  username: string;
  computer: string;
  /** ticks per second of the process clock */
  tsc_frequency: number;
  start_time: bigint;
  start_ticks: bigint;
  process_properties: Record<string, string>;
  /** the stream's `thread_name` property, '' when it has none */
  thread_name?: string;
}

const SELECT = `
  SELECT b.block_id, b.stream_id, b.process_id, b.begin_time, b.begin_ticks, b.end_time, b.end_ticks, b.nb_objects,
         b.object_offset, b.payload_size, b.insert_time, coalesce(p.exe, '') AS exe, coalesce(p.username, '') AS username,
         coalesce(p.computer, '') AS computer, coalesce(p.tsc_frequency, 1000000000) AS tsc_frequency,
         coalesce(p.start_time, 0) AS start_time, coalesce(p.start_ticks, 0) AS start_ticks,
         coalesce(p.properties, '{}'::jsonb) AS process_properties, coalesce(s.properties->>'thread_name', '') AS thread_name
  FROM blocks b
  JOIN streams s ON s.stream_id = b.stream_id
  LEFT JOIN processes p ON p.process_id = b.process_id`;

/** Blocks of streams tagged `tag` inserted in [begin, end), in insert order. */
export async function blocksByInsertTime(sql: SqlClient, tag: string, begin: bigint, end: bigint): Promise<SourceBlock[]> {
  const rows = await sql.query<Record<string, unknown>>(
    `${SELECT} WHERE b.insert_time >= $2 AND b.insert_time < $3 AND $1 = ANY(s.tags)
     ORDER BY b.insert_time, b.block_id`,
    [tag, begin, end],
  );
  return rows.map(toSourceBlock);
}

/**
 * Blocks overlapping [begin, end) in event time, of streams tagged `tag`, for one process (`by` 'process')
 * or one stream (`by` 'stream'), oldest first.
 */
export async function blocksByEventTime(
  sql: SqlClient,
  tag: string,
  by: 'process' | 'stream',
  id: string,
  begin: bigint,
  end: bigint,
): Promise<SourceBlock[]> {
  const rows = await sql.query<Record<string, unknown>>(
    `${SELECT} WHERE b.${by}_id = $2 AND b.begin_time < $4 AND b.end_time >= $3 AND $1 = ANY(s.tags)
     ORDER BY b.begin_time, b.block_id`,
    [tag, id, begin, end],
  );
  return rows.map(toSourceBlock);
}

function toSourceBlock(r: Record<string, unknown>): SourceBlock {
  const props = typeof r.process_properties === 'string' ? JSON.parse(r.process_properties) : r.process_properties;
  const { object_offset: _offset, payload_size: _size, ...block } = toBlockRecord(r);
  return {
    ...block,
    insert_time: BigInt(r.insert_time as string),
    exe: String(r.exe),
    username: String(r.username),
    computer: String(r.computer),
    tsc_frequency: Number(r.tsc_frequency),
    start_time: BigInt(r.start_time as string),
    start_ticks: BigInt(r.start_ticks as string),
    process_properties: (props ?? {}) as Record<string, string>,
    thread_name: String(r.thread_name ?? ''),
  };
}

/**
 * A block's columns. For a block of logs only sent with codec 2, also its messages as the LZ4 block the client
 * compressed them into: exactly the messages back to back, so Parquet pages of them can reuse it.
 */
export type BlockColumns = TransitColumns & { packedMessages?: Uint8Array };

/**
 * Decodes a stored block envelope; throws TransitError. A codec-2 block of logs (what the tracing library sends)
 * is decoded from the part before its data section: the messages stay compressed, their LZ4 block goes into
 * Parquet as it is (`packedMessages`), and they are decompressed only if something reads them. What this skips
 * is reading them, not checking them: ingestion refuses a block whose messages are not UTF-8 (validate-block.ts;
 * a block is stored by nothing else), and `lz4BlockSound` proves here that their LZ4 block turns into exactly
 * the section's bytes in any decoder. A block whose property maps would spell out more text than its size allows
 * (block-expansion.ts) is refused with a TransitError, which `loadAllColumns` logs and skips.
 */
export function decodeStoredBlock(bytes: Uint8Array): BlockColumns {
  const columns = decodeColumnsOf(bytes);
  // the columns are bounded by the payload; the property maps staging spells out per row are not
  checkColumnsExpansion(columns, bytes.byteLength);
  return columns;
}

function decodeColumnsOf(bytes: Uint8Array): BlockColumns {
  const header = decodeBlockHeader(bytes);
  const packed = packedDataSection(header);
  if (!packed) return decodeColumns(decompressBlock(header, transitCodecs), undefined, header.version);
  const head = lz4Codec.decompress(packed.head, packed.offset);
  const data = () => lz4Codec.decompress(packed.body, packed.size);
  const columns: BlockColumns | null = decodeLogsWithoutData(head, packed.size, data, undefined, header.version);
  if (columns && lz4BlockSound(packed.lz4, packed.size)) {
    columns.packedMessages = packed.lz4;
    return columns;
  }
  // other events (or messages in a block no strict decoder takes as it is): the whole payload, decoded again
  return decodeColumns(joinSections(head, data(), packed.size), undefined, header.version);
}

/** Loads and decodes a block's payload. */
export async function loadColumns(objects: ObjectStore, b: SourceBlock): Promise<BlockColumns> {
  return decodeStoredBlock(await objects.get(blobKey(b.process_id, b.stream_id, b.block_id)));
}

/**
 * Loads many blocks, a few at a time, keeping their order. A block that cannot be decoded (corrupt payload,
 * object gone) yields null and is reported once: one bad block must not stop a view forever. No new fetch
 * starts once `signal` is aborted.
 */
export async function loadAllColumns(
  objects: ObjectStore,
  blocks: readonly SourceBlock[],
  parallel = 8,
  signal?: AbortSignal,
): Promise<(BlockColumns | null)[]> {
  return mapLimit(
    blocks,
    parallel,
    async (b) => {
      try {
        return await loadColumns(objects, b);
      } catch (err) {
        if (!(err instanceof TransitError) && !(err instanceof ObjectNotFoundError)) throw err;
        log.error(`skipping block ${b.block_id}: ${err.message}`);
        return null;
      }
    },
    signal,
  );
}

/** A stable digest of a set of blocks: equal digests mean the same source data. */
export function blocksHash(blocks: readonly SourceBlock[]): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  const ids = blocks.map((b) => b.block_id).sort();
  for (const id of ids) {
    for (let i = 0; i < id.length; i++) {
      const c = id.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
      h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
    }
    h1 = Math.imul(h1 ^ 0x2c, 0x01000193) >>> 0;
  }
  return `${ids.length}:${h1.toString(16).padStart(8, '0')}${h2.toString(16).padStart(8, '0')}`;
}
