/**
 * Entry point of the sender worker thread: runs the platform-neutral {@link Sender} on batches from the
 * main thread (its parent port, buffers transferred and handed back) and from worker threads (a
 * BroadcastChannel, buffers copied).
 */
import { randomUUID } from 'node:crypto';
import { lz4SectionsCodec } from '@sirius/transit';
import { BroadcastChannel, parentPort, workerData } from 'node:worker_threads';
import { Budget } from '../../core/budget.js';
import type { Batch } from '../../core/records.js';
import { Sender } from '../../core/sender.js';
import { fetchTransport } from '../../core/transport.js';
import { clock, timeOrigin } from './clock.js';
import { lz4Codec } from './lz4-codec.js';
import type { FromSender, SenderConfig, ToSender } from './messages.js';

const cfg = workerData as SenderConfig;
const port = parentPort!;
const offsetMs = timeOrigin() - cfg.processTimeOrigin;
const budget = new Budget(cfg.budget, cfg.maxBufferBytes);
/** channel messages received, compared with the count worker threads posted */
let fromChannel = 0;

const sender = new Sender({
  process: cfg.process,
  logStreamId: cfg.logStreamId,
  metricsStreamId: cfg.metricsStreamId,
  transport: fetchTransport(cfg.url, { apiKey: cfg.apiKey }),
  // codec 2: messages compressed apart, so the lakehouse reuses them as Parquet pages without compressing again
  codec: lz4SectionsCodec(lz4Codec),
  budget,
  nowTicks: () => (clock() + offsetMs) * 1e6,
  newId: randomUUID,
  concurrency: cfg.concurrency,
  backoff: cfg.backoff,
  warn: (m) => process.stderr.write(m + '\n'),
  sampling: cfg.sampling,
});

function handle(m: ToSender, fromParent: boolean): void {
  switch (m.type) {
    case 'thread':
      sender.hello(m);
      break;
    case 'batch':
      sender.batch(m);
      if (fromParent && budget.mayGiveBack()) giveBack(m);
      break;
    case 'flush':
      void channelCaughtUp()
        .then(() => sender.flush())
        .then(() => port.postMessage({ type: 'flushed', id: m.id } satisfies FromSender));
      break;
    case 'stop':
      sender.stop();
      channel.close();
      port.close();
      break;
  }
}

function giveBack(b: Batch): void {
  port.postMessage({ type: 'reuse', f64: b.f64 } satisfies FromSender, [b.f64.buffer as ArrayBuffer]);
}

/** Worker threads' batches come over another queue than the flush request: wait for those already posted. */
async function channelCaughtUp(): Promise<void> {
  const target = budget.posted;
  while (fromChannel < target) await new Promise((r) => setTimeout(r, 1));
}

port.on('message', (m: ToSender) => handle(m, true));
const channel = new BroadcastChannel(cfg.channel);
channel.onmessage = (e) => {
  fromChannel++;
  handle((e as { data: ToSender }).data, false);
};
channel.unref();
budget.markReady();
