/**
 * Stores one block: validate it fully, check its stream, write the object, then commit the row (batched
 * with concurrent requests). The object goes first so that no row ever points at a missing object; a
 * failure after the put leaves at most an orphan object, which the same block's retry finds with the same
 * bytes. Retrying a stored block writes nothing and adds no row.
 *
 * Objects are create-only, so a block id re-sent with other bytes is refused (409) and the stored object,
 * which its row describes, stays; so is a block id already stored for another stream or process.
 */
import { blobKey, ObjectConflictError, type ObjectStore } from '../lake/object-store.js';
import type { BlockBatcher } from '../lake/block-batcher.js';
import type { BlockMeta, DecodeLimits } from '@sirius/transit';
import { HttpError } from './http-error.js';
import type { StreamCache } from './stream-cache.js';
import { validateBlock } from './validate-block.js';

export interface BlockIngestorDeps {
  objects: ObjectStore;
  batcher: BlockBatcher;
  streams: StreamCache;
  limits: DecodeLimits;
}

export async function ingestBlock(deps: BlockIngestorDeps, envelope: Uint8Array): Promise<{ block_id: string }> {
  return storeBlock(deps, envelope, validateBlock(envelope, deps.limits));
}

/** Stores a block `validateBlock` already accepted (its `meta`): object first, then its row. */
export async function storeBlock(deps: BlockIngestorDeps, envelope: Uint8Array, meta: BlockMeta): Promise<{ block_id: string }> {
  const owner = await deps.streams.owner(meta.stream_id);
  if (owner === null) throw new HttpError(404, `unknown stream ${meta.stream_id}: send insert_stream before its blocks`);
  if (owner !== meta.process_id) {
    throw new HttpError(400, `stream ${meta.stream_id} belongs to process ${owner}, not ${meta.process_id}`);
  }
  const key = blobKey(meta.process_id, meta.stream_id, meta.block_id);
  let put;
  try {
    put = await deps.objects.put(key, envelope);
  } catch (err) {
    if (err instanceof ObjectConflictError) {
      throw new HttpError(409, `block ${meta.block_id} is already stored with other content; a block id is never rewritten`);
    }
    throw err;
  }
  const mine = await deps.batcher.insert({
    block_id: meta.block_id,
    stream_id: meta.stream_id,
    process_id: meta.process_id,
    begin_time: meta.begin_time,
    begin_ticks: meta.begin_ticks,
    end_time: meta.end_time,
    end_ticks: meta.end_ticks,
    nb_objects: meta.nb_objects,
    object_offset: objectOffset(meta),
    payload_size: envelope.byteLength,
  });
  if (!mine) {
    // the object is under this stream's key, which no row names: do not keep what the client cannot use
    if (put === 'created') await deps.objects.delete([key]);
    throw new HttpError(409, `block ${meta.block_id} is already stored for another stream; a block id is never reused`);
  }
  return { block_id: meta.block_id };
}

/** The envelope may carry the stream's running event count; older clients do not, and 0 stands in. */
function objectOffset(meta: object): bigint {
  const v = (meta as { object_offset?: unknown }).object_offset;
  return typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(v) : 0n;
}
