/**
 * Test data for ingestion: a process, a stream, and real LZ4 block envelopes built with the transit encoder.
 */
import { randomUUID } from 'node:crypto';
import { after, before } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer, type ServeOptions } from '../../src/serve.js';
import type { PgBackend } from '../support/pg.js';
import { BlockEncoder, encodeBlock, LogLevel, type BlockMeta, type ProcessInfo, type StreamInfo } from '@sirius/transit';
import { lz4Codec } from '../../src/lake/lz4-codec.js';

export function makeProcess(): ProcessInfo {
  return {
    process_id: randomUUID(),
    exe: '/usr/bin/game',
    username: 'alice',
    realname: 'Alice',
    computer: 'box',
    distro: 'debian 12',
    cpu_brand: 'test cpu',
    tsc_frequency: 1_000_000_000,
    start_time: '1763890000000000000',
    start_ticks: '0',
    parent_process_id: null,
    properties: { env: 'test' },
  };
}

export function makeStream(processId: string, tags = ['log']): StreamInfo {
  return { stream_id: randomUUID(), process_id: processId, tags, properties: { thread: 'main' } };
}

/** A block of `events` log lines (about 30 bytes of payload each before compression). */
/** A log block of `events` lines; `text` changes what they say (two blocks with one id can then differ). */
export function makeBlock(stream: StreamInfo, events = 10, blockId: string = randomUUID(), text?: string): { meta: BlockMeta; body: Uint8Array } {
  const enc = new BlockEncoder();
  for (let i = 0; i < events; i++) enc.log(i * 1000, LogLevel.info, 'game', text === undefined ? `frame ${i} took ${(i * 7) % 17} ms` : `${text} ${i}`);
  const meta: BlockMeta = {
    block_id: blockId,
    stream_id: stream.stream_id,
    process_id: stream.process_id,
    begin_time: 1763890000000000000n,
    begin_ticks: 0n,
    end_time: 1763890000000000000n + BigInt(events * 1000),
    end_ticks: BigInt(events * 1000),
    nb_objects: events,
  };
  return { meta, body: encodeBlock(meta, enc.finish(), lz4Codec) };
}

/**
 * A server with the ingestion role on a fresh database of `backend` and a temporary data dir, for one
 * describe block: registers its before/after hooks; `ready` receives the server and its data dir.
 */
export function useIngestionServer(
  backend: PgBackend,
  prefix: string,
  options: (dir: string) => ServeOptions,
  ready: (server: RunningServer, dir: string) => void,
): void {
  let dir: string | undefined;
  let db: Awaited<ReturnType<PgBackend['create']>> | undefined;
  let server: RunningServer | undefined;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
    db = await backend.create();
    server = await startServer({
      roles: ['ingestion'],
      httpPort: 0,
      dataDir: dir,
      sqlConnectionString: db.connectionString ?? 'memory://',
      quiet: true,
      ...options(dir),
    });
    ready(server, dir);
  });
  after(async () => {
    await server?.close();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
}

/** How many processes, streams, block rows and block objects the lake holds. */
export async function lakeCounts(server: RunningServer) {
  const [row] = await server.lake.sql.query<{ p: string; s: string; b: string }>(
    'SELECT (SELECT count(*) FROM processes) AS p, (SELECT count(*) FROM streams) AS s, (SELECT count(*) FROM blocks) AS b',
  );
  let objects = 0;
  for await (const _ of server.lake.objects.list('blobs/')) objects++;
  return { processes: Number(row!.p), streams: Number(row!.s), blocks: Number(row!.b), objects };
}
