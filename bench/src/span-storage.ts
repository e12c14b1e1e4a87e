/**
 * Stored bytes per CPU-trace span event, end to end: a child process records a game-like trace through the
 * real `@sirius/tracing` library (nested spans per frame, a little work in each, so begin/end are µs apart
 * as in a game), the real server stores the blocks, and the figure is what the lake holds for the `cpu`
 * streams: the bytes of the stored objects (envelope + LZ4 payload) over the events they hold. Target ≤ 3.
 * Standalone: `node --import tsx bench/src/span-storage.ts`.
 */
import { fileURLToPath } from 'node:url';
import { runChildJson, withServer } from './tracing-child.js';

const FRAMES = Number(process.env.SIRIUS_BENCH_FRAMES ?? 600);

async function emit(): Promise<{ spans: number; flushed: boolean }> {
  const tracing = await import('@sirius/tracing');
  tracing.init({ exe: 'bench-span-storage' });
  let spans = 0;
  let sink = 0;
  const work = (n: number) => {
    for (let i = 0; i < n; i++) sink += Math.sqrt(i + sink);
  };
  // per frame: update (40 entities × 3 systems) and render (60 draw calls): ~240 spans, ~480 events
  for (let frame = 0; frame < FRAMES; frame++) {
    tracing.span('frame', () => {
      tracing.span('update', () => {
        for (let e = 0; e < 40; e++) {
          tracing.span('physics', () => work(20));
          tracing.span('ai', () => work(10));
          tracing.span('animation', () => work(15));
          spans += 3;
        }
      });
      tracing.span('render', () => {
        for (let d = 0; d < 60; d++) {
          tracing.span('draw', () => work(25));
          spans++;
        }
      });
      spans += 3;
    });
    if (frame % 60 === 59) await new Promise((r) => setImmediate(r));
  }
  const flushed = await tracing.shutdown({ timeoutMs: 60_000 });
  if (sink === -1) console.error(sink); // keeps the work from being optimized away
  return { spans, flushed };
}

export async function run(): Promise<Record<string, number | boolean>> {
  return withServer(async (server) => {
    const r = await runChildJson<{ spans: number; flushed: boolean }>(fileURLToPath(import.meta.url), {
      SIRIUS_TELEMETRY_URL: server.url,
      SIRIUS_BENCH_CHILD: '1',
    });
    const [row] = await server.lake.sql.query<{ bytes: string; events: string; blocks: string }>(
      `SELECT coalesce(sum(b.payload_size), 0) AS bytes, coalesce(sum(b.nb_objects), 0) AS events, count(*) AS blocks
       FROM blocks b JOIN streams s ON s.stream_id = b.stream_id WHERE 'cpu' = ANY(s.tags)`,
    );
    const bytes = Number(row!.bytes);
    const events = Number(row!.events);
    return {
      span_events_recorded: r.spans * 2,
      span_events_stored: events,
      cpu_blocks: Number(row!.blocks),
      stored_bytes: bytes,
      stored_bytes_per_span_event: Number((bytes / events).toFixed(3)),
      flushed: r.flushed,
    };
  });
}

if (process.env.SIRIUS_BENCH_CHILD === '1') {
  console.log(JSON.stringify(await emit()));
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(await run(), null, 2));
}
