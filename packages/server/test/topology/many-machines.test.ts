/**
 * The roles as separate OS processes sharing one PostgreSQL server and one S3-compatible store (s3rver on
 * loopback), as docs/deployment.md describes: three ingestion servers, two daemons, two analytics servers.
 * A client spreads log blocks over the ingestion servers, moving to the next one when a server fails it.
 * Mid-run, one ingestion server and one daemon are killed with SIGKILL. Every acknowledged event must then be
 * answered exactly once by each analytics server, and materialized exactly once by the surviving daemons.
 *
 * Needs the PostgreSQL server (PGlite is one process's database): without SIRIUS_TEST_PG it skips, saying so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { BlockEncoder, encodeBlock, LogLevel, type BlockMeta, type ProcessInfo, type StreamInfo } from '@sirius/transit';
import { lz4Codec } from '../../src/lake/lz4-codec.js';
import { cleanEnv, serve, type ServeChild } from '../cli/serve-process.js';
import { pgBackends } from '../support/pg.js';
import { waitFor } from '../support/raw-client.js';

const postgres = pgBackends.find((b) => b.name === 'postgres')!;
const skip = postgres.skip;
if (skip) console.log(skip);

/** recent event times: the daemons' retention (90 days by default) would expire older blocks mid-test */
const BASE_TIME = BigInt(Date.now() - 3_600_000) * 1_000_000n;
const BLOCKS = 90;
const EVENTS_PER_BLOCK = 40;
const BUCKET = 'sirius-topology';

interface Sent {
  meta: BlockMeta;
  body: Uint8Array;
  messages: string[];
}

function logBlock(stream: StreamInfo, index: number): Sent {
  const enc = new BlockEncoder();
  const messages: string[] = [];
  for (let i = 0; i < EVENTS_PER_BLOCK; i++) {
    const msg = `block ${index} event ${i}`;
    messages.push(msg);
    enc.log(i * 1000, LogLevel.info, 'topology', msg);
  }
  // one second of event time per block, so blocks never share a time range
  const begin = BASE_TIME + BigInt(index) * 1_000_000_000n;
  const meta: BlockMeta = {
    block_id: randomUUID(),
    stream_id: stream.stream_id,
    process_id: stream.process_id,
    begin_time: begin,
    begin_ticks: BigInt(index) * 1_000_000_000n,
    end_time: begin + BigInt(EVENTS_PER_BLOCK * 1000),
    end_ticks: BigInt(index) * 1_000_000_000n + BigInt(EVENTS_PER_BLOCK * 1000),
    nb_objects: EVENTS_PER_BLOCK,
  };
  return { meta, body: encodeBlock(meta, enc.finish(), lz4Codec), messages };
}

function processInfo(): ProcessInfo {
  return {
    process_id: randomUUID(), exe: '/usr/bin/fleet', username: 'ops', realname: 'Ops', computer: 'node-a', distro: 'debian 12',
    cpu_brand: 'test cpu', tsc_frequency: 1_000_000_000, start_time: BASE_TIME.toString(), start_ticks: '0',
    parent_process_id: null, properties: { role: 'topology-test' },
  };
}

/**
 * Round-robin over the ingestion servers: each request goes to the next server; a refused connection or a
 * 5xx sends the same request to the following one (inserts are idempotent, so a retry never duplicates).
 */
function spreader(urls: string[]) {
  let next = 0;
  return async function send(route: string, body: Uint8Array | string): Promise<void> {
    let lastError = '';
    for (let attempt = 0; attempt < urls.length * 3; attempt++) {
      const url = urls[next++ % urls.length]!;
      try {
        const r = await fetch(`${url}/ingestion/${route}`, { method: 'POST', body: typeof body === 'string' ? body : Buffer.from(body), signal: AbortSignal.timeout(30_000) });
        if (r.status === 200) {
          await r.arrayBuffer();
          return;
        }
        lastError = `${url} answered ${r.status}: ${await r.text()}`;
        if (r.status < 500) throw new Error(lastError);
      } catch (err) {
        if (err instanceof Error && err.message === lastError) throw err;
        lastError = `${url}: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    throw new Error(`no ingestion server took ${route}: ${lastError}`);
  };
}

async function queryMessages(url: string): Promise<string[]> {
  const r = await fetch(`${url}/api/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      sql: `SELECT msg FROM log_entries WHERE target = 'topology'`,
      begin: new Date(Number(BASE_TIME / 1_000_000n) - 60_000).toISOString(),
      end: new Date(Number(BASE_TIME / 1_000_000n) + (BLOCKS + 60) * 1000).toISOString(),
    }),
  });
  if (r.status !== 200) throw new Error(`query on ${url} answered ${r.status}: ${await r.text()}`);
  const body = (await r.json()) as { rows: { msg: string }[] };
  return body.rows.map((row) => row.msg);
}

test('three ingestion servers, two daemons and two analytics servers share PostgreSQL and S3; SIGKILLs lose nothing acknowledged', { skip, timeout: 240_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sirius-topology-'));
  const db = await postgres.create();
  const s3 = new S3rver({ address: '127.0.0.1', port: 0, directory: join(dir, 's3'), silent: true });
  const { port } = await s3.run();
  const s3Env = { AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };
  const children: ServeChild[] = [];
  try {
    const client = new S3Client({ endpoint: s3Env.AWS_ENDPOINT_URL, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    client.destroy();
    const env = cleanEnv({
      ...s3Env,
      SIRIUS_SQL_CONNECTION_STRING: db.connectionString!,
      SIRIUS_OBJECT_STORE_URI: `s3://${BUCKET}/lake`,
      SIRIUS_INGESTION_KEYS: '',
      SIRIUS_QUERY_KEYS: '',
    });
    const start = (role: string, i: number) => {
      const child = serve(['--roles', role, '--http-port', '0', '--flight-port', '0', '--pg-port', '0', '--data-dir', join(dir, `${role}-${i}`)], env);
      children.push(child);
      return child;
    };
    // the first server applies the migrations; the others start against the migrated schema (they would also
    // wait on the migration lock, but seven processes compiling at once on two cores is slow enough)
    const ingestion = [start('ingestion', 0)];
    const ingestionUrls = [await ingestion[0]!.url()];
    ingestion.push(start('ingestion', 1), start('ingestion', 2));
    const daemons = [start('daemon', 0), start('daemon', 1)];
    const analytics = [start('analytics', 0), start('analytics', 1)];
    ingestionUrls.push(await ingestion[1]!.url(), await ingestion[2]!.url());
    await Promise.all(daemons.map((d) => d.url()));
    const analyticsUrls = await Promise.all(analytics.map((a) => a.url()));

    const send = spreader(ingestionUrls);
    const proc = processInfo();
    const streams: StreamInfo[] = [0, 1].map(() => ({ stream_id: randomUUID(), process_id: proc.process_id, tags: ['log'], properties: { thread: 'main' } }));
    await send('insert_process', JSON.stringify(proc));
    for (const s of streams) await send('insert_stream', JSON.stringify(s));

    const acknowledged: string[] = [];
    const blocks = Array.from({ length: BLOCKS }, (_, i) => logBlock(streams[i % 2]!, i));
    // four requests in flight at a time, so a SIGKILL lands while some of them are being served
    const sendRange = async (from: number, to: number) => {
      let i = from;
      await Promise.all([0, 1, 2, 3].map(async () => {
        while (i < to) {
          const b = blocks[i++]!;
          await send('insert_block', b.body);
          acknowledged.push(...b.messages);
        }
      }));
    };
    await sendRange(0, BLOCKS / 3);
    const killedIngestion = ingestion[1]!;
    const killedDaemon = daemons[0]!;
    const middle = sendRange(BLOCKS / 3, (2 * BLOCKS) / 3);
    killedIngestion.child.kill('SIGKILL');
    killedDaemon.child.kill('SIGKILL');
    await middle;
    assert.equal(await killedIngestion.exited, null, 'the killed ingestion server died of its signal');
    assert.equal(await killedDaemon.exited, null, 'the killed daemon died of its signal');
    await sendRange((2 * BLOCKS) / 3, BLOCKS);
    assert.equal(acknowledged.length, BLOCKS * EVENTS_PER_BLOCK);

    const expected = [...acknowledged].sort();
    for (const url of analyticsUrls) {
      const answered = await waitFor(async () => {
        const got = (await queryMessages(url)).sort();
        return got.length >= expected.length ? got : undefined;
      }, 120_000, `every acknowledged event answered by ${url}`);
      assert.deepEqual(answered, expected, `${url} answers every acknowledged event exactly once`);
    }

    // the surviving daemon materializes every block once: partition rows account for each event exactly once
    const { default: pg } = await import('pg');
    const sql = new pg.Client({ connectionString: db.connectionString });
    await sql.connect();
    try {
      const materialized = await waitFor(async () => {
        const { rows } = await sql.query<{ n: string | null }>(`SELECT sum(num_rows)::text AS n FROM lakehouse_partitions WHERE view_set = 'log_entries' AND view_instance = 'global'`);
        const n = Number(rows[0]?.n ?? 0);
        return n >= expected.length ? n : undefined;
      }, 120_000, 'the surviving daemon materializes every block');
      assert.equal(materialized, expected.length, 'no block materialized twice');
    } finally {
      await sql.end();
    }
    // with the events in partitions, both analytics servers still answer each exactly once
    for (const url of analyticsUrls) assert.deepEqual((await queryMessages(url)).sort(), expected);
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await s3.close();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  }
});
