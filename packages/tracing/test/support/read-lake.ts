/** Reads back what the server stored: every stream, and every block's events decoded from its object. */
import { transitCodecs, type Lake } from '@sirius/server';
import { decodeBlock, type TransitEvent } from '@sirius/transit';

export interface StoredStream {
  stream_id: string;
  process_id: string;
  tags: string[];
  properties: Record<string, string>;
  /** events of all blocks, blocks ordered by begin_ticks, with absolute ticks */
  events: (TransitEvent & { abs: number })[];
  blocks: number;
}

export async function readStreams(lake: Lake): Promise<StoredStream[]> {
  const streams = await lake.sql.query<{ stream_id: string; process_id: string; tags: string[]; properties: Record<string, string> }>(
    'SELECT stream_id, process_id, tags, properties FROM streams',
  );
  const blocks = await lake.sql.query<{ block_id: string; stream_id: string; process_id: string; begin_ticks: string | number; nb_objects: number }>(
    'SELECT block_id, stream_id, process_id, begin_ticks, nb_objects FROM blocks ORDER BY begin_ticks, block_id',
  );
  const out = new Map<string, StoredStream>(streams.map((s) => [s.stream_id, { ...s, events: [], blocks: 0 }]));
  for (const b of blocks) {
    const s = out.get(b.stream_id);
    if (s === undefined) throw new Error(`block ${b.block_id} of unknown stream ${b.stream_id}`);
    const bytes = await lake.objects.get(`blobs/${b.process_id}/${b.stream_id}/${b.block_id}`);
    const { meta, events } = decodeBlock(bytes, transitCodecs);
    if (meta.nb_objects !== events.length || Number(b.nb_objects) !== events.length) {
      throw new Error(`block ${b.block_id}: nb_objects ${b.nb_objects}/${meta.nb_objects} but ${events.length} events`);
    }
    const begin = Number(meta.begin_ticks);
    for (const e of events) s.events.push({ ...e, abs: begin + e.ticks });
    s.blocks++;
  }
  return [...out.values()];
}

/** Every `blocks` row whose object is missing (must be none, whatever happened to the client). */
export async function blocksWithoutObject(lake: Lake): Promise<string[]> {
  const rows = await lake.sql.query<{ block_id: string; stream_id: string; process_id: string }>('SELECT block_id, stream_id, process_id FROM blocks');
  const missing: string[] = [];
  for (const b of rows) {
    if ((await lake.objects.head(`blobs/${b.process_id}/${b.stream_id}/${b.block_id}`)) === null) missing.push(b.block_id);
  }
  return missing;
}
