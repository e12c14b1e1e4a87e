/**
 * The last-moment flush when the page is hidden or left (`visibilitychange` to hidden, `pagehide`): the page
 * may be discarded without another chance to run, and its Web Worker with it, so the main thread encodes what
 * is still in its own buffers and sends it itself with `fetch(…, { keepalive: true })`, which outlives the page.
 * Browsers cap the bodies of keepalive requests in flight at 64 KiB per page: logs go first, then metrics,
 * then spans; a batch that does not fit is cut to the records that do (spans: all or nothing), and the rest is
 * dropped and counted.
 *
 * Limits, as they are: blocks the worker had already encoded and not yet uploaded are not seen here (with a
 * reachable server that is at most about a second of data, usually less) and are lost if the page is
 * discarded before the worker sends them. If the server has not yet stored the process or a stream, their
 * records are sent first and the blocks after them, which a page being unloaded may not live to do.
 */
import { BlockEncoder, encodeBlock, lz4SectionsCodec, type Codec } from '@sirius/transit';
import { encodeBatch } from '../../core/batch-encoder.js';
import { LOG_SLOTS, METRIC_SLOTS, type Batch } from '../../core/records.js';
import type { Recorder } from '../../core/recorder.js';
import type { BatchSink } from '../../core/sink.js';
import { storableProcess, storableStream } from '../../core/storable.js';
import { lz4Codec } from './lz4-codec.js';
import type { BrowserSenderConfig } from './messages.js';
import type { PageSink } from './page-sink.js';
import { uuid } from './uuid.js';

/** what the browser lets keepalive bodies in flight add up to (64 KiB), less room for headers */
export const KEEPALIVE_BYTES = 63 * 1024;
const ORDER = { log: 0, metrics: 1, cpu: 2 } as const;

export interface KeepaliveResult {
  /** events sent in keepalive requests */
  sent: number;
  /** events that did not fit */
  dropped: number;
  requests: number;
}

export class KeepaliveFlusher {
  private readonly encoder = new BlockEncoder({ initialCapacity: 1 << 14 });
  private readonly codec: Codec = lz4SectionsCodec(lz4Codec);
  /** bytes of keepalive bodies not yet answered */
  private inFlight = 0;
  private readonly originNs: bigint;
  private readonly headers: Record<string, string>;

  constructor(private readonly cfg: BrowserSenderConfig, private readonly sink: PageSink) {
    this.originNs = BigInt(cfg.process.start_time) - BigInt(cfg.process.start_ticks);
    this.headers = cfg.apiKey ? { authorization: `Bearer ${cfg.apiKey}` } : {};
  }

  /** Takes every recorder's buffered events and sends them in keepalive requests. */
  flush(recorders: readonly Recorder[]): KeepaliveResult {
    const batches = this.collect(recorders);
    batches.sort((a, b) => ORDER[a.stream] - ORDER[b.stream]);
    const result: KeepaliveResult = { sent: 0, dropped: 0, requests: 0 };
    const first: [string, string][] = [];
    const proc = this.cfg.process.process_id;
    if (!this.sink.registered.process) first.push(['/ingestion/insert_process', JSON.stringify(storableProcess(this.cfg.process))]);
    const streams = new Map<string, object>([
      [this.cfg.logStreamId, { stream_id: this.cfg.logStreamId, process_id: proc, tags: ['log'], properties: {} }],
      [this.cfg.metricsStreamId, { stream_id: this.cfg.metricsStreamId, process_id: proc, tags: ['metrics'], properties: {} }],
    ]);
    for (const h of this.sink.threads.values()) {
      streams.set(h.cpuStreamId, {
        stream_id: h.cpuStreamId, process_id: proc, tags: ['cpu'], properties: { thread_name: h.threadName, thread_id: String(h.threadId) },
      });
    }
    const blocks: Uint8Array[] = [];
    const needed = new Set<string>();
    let room = KEEPALIVE_BYTES - this.inFlight;
    for (const b of batches) {
      const streamId = this.streamOf(b);
      if (streamId === undefined) {
        result.dropped += b.events;
        continue;
      }
      const reserve = this.sink.registered.streams.has(streamId) || needed.has(streamId) ? 0 : 400;
      const body = this.fit(b, streamId, room - reserve - first.reduce((n, [, j]) => n + j.length, 0));
      result.dropped += b.events - body.events;
      if (body.block === undefined) continue;
      if (reserve > 0) needed.add(streamId);
      blocks.push(body.block);
      room -= body.block.length + reserve;
      result.sent += body.events;
    }
    for (const id of needed) first.push(['/ingestion/insert_stream', JSON.stringify(storableStream(streams.get(id) as never))]);
    if (result.dropped > 0) this.sink.countDropped(result.dropped);
    // records the blocks depend on go first; the blocks follow once they are answered (a leaving page may not
    // live to send them, but a hidden one does)
    const records = first.map(([path, json]) => this.post(path, json, 'application/json'));
    result.requests = records.length + blocks.length;
    const sendBlocks = (): void => {
      for (const body of blocks) void this.post('/ingestion/insert_block', body, 'application/octet-stream');
    };
    if (records.length === 0) sendBlocks();
    else void Promise.all(records).then(sendBlocks);
    return result;
  }

  /** every recorder's buffers, taken without handing them to the worker; their descriptors stay unshipped for it */
  private collect(recorders: readonly Recorder[]): Batch[] {
    const out: Batch[] = [];
    for (const r of recorders) {
      const mine: Batch[] = [];
      const collector: BatchSink = {
        submit: (b) => {
          // encoded right away, before the recorder writes into this buffer again
          mine.push({ ...b, f64: b.f64.slice(0, b.slots) });
          return true;
        },
        reuse: () => undefined,
        countDropped: (n) => this.sink.countDropped(n),
      };
      const previous = r.sink;
      r.sink = collector;
      try {
        r.flushAll();
      } finally {
        r.sink = previous;
      }
      // the first batch took every new descriptor, the later ones may need them too
      const taken = mine.flatMap((b) => b.descriptors);
      for (const b of mine) b.descriptors = taken;
      // the worker has not seen these descriptors: the next batch it gets must carry them again
      r.interner.restore(taken);
      out.push(...mine);
    }
    return out;
  }

  private streamOf(b: Batch): string | undefined {
    if (b.stream === 'log') return this.cfg.logStreamId;
    if (b.stream === 'metrics') return this.cfg.metricsStreamId;
    return this.sink.threads.get(b.thread)?.cpuStreamId;
  }

  /** The batch as one block within `room` bytes, cut to its first records if needed (logs and metrics only). */
  private fit(b: Batch, streamId: string, room: number): { block?: Uint8Array; events: number } {
    const slotsPer = b.stream === 'log' ? LOG_SLOTS : b.stream === 'metrics' ? METRIC_SLOTS : 0;
    let events = b.events;
    while (events > 0 && room > 0) {
      const part: Batch = slotsPer === 0 ? b : { ...b, events, slots: events * slotsPer };
      const block = this.encode(part, streamId);
      if (block !== undefined && block.length <= room) return { block, events };
      if (slotsPer === 0) break;
      events = Math.floor(events / 2);
    }
    return { events: 0 };
  }

  private encode(b: Batch, streamId: string): Uint8Array | undefined {
    const known = this.sink.descriptors.get(b.thread) ?? [];
    const descriptors = known.slice();
    for (const d of b.descriptors) descriptors[d.id] = d;
    try {
      const e = encodeBatch(b, { descriptors, originOffsetMs: 0 }, this.encoder);
      return encodeBlock(
        {
          block_id: uuid(),
          stream_id: streamId,
          process_id: this.cfg.process.process_id,
          begin_time: this.originNs + BigInt(e.beginTicks),
          begin_ticks: BigInt(e.beginTicks),
          end_time: this.originNs + BigInt(e.endTicks),
          end_ticks: BigInt(e.endTicks),
          nb_objects: e.events,
        },
        e.payload,
        this.codec,
      );
    } catch {
      this.encoder.finish();
      return undefined;
    }
  }

  private post(path: string, body: Uint8Array | string, contentType: string): Promise<unknown> {
    const size = typeof body === 'string' ? body.length : body.length;
    this.inFlight += size;
    return fetch(this.cfg.url.replace(/\/+$/, '') + path, {
      method: 'POST',
      body: body as BodyInit,
      keepalive: true,
      headers: { ...this.headers, 'content-type': contentType },
    })
      .catch(() => undefined)
      .finally(() => {
        this.inFlight -= size;
      });
  }
}
