/**
 * The platform-neutral {@link Sender} set up for a browser: in the sender Web Worker, or on the page itself
 * when no worker can start. Its {@link Budget} is local (pages without cross-origin isolation have no
 * SharedArrayBuffer; Atomics work on a plain buffer too): the worker charges each batch as it arrives and
 * reports what it holds back to the page, which adds it to its own count. It also tells which process and
 * stream records the server has stored, so that the page's last-moment keepalive flush knows whether it
 * must send them again.
 */
import { lz4SectionsCodec } from '@sirius/transit';
import { BUDGET_CELLS, Budget } from '../../core/budget.js';
import { Sender } from '../../core/sender.js';
import { fetchTransport, type Transport } from '../../core/transport.js';
import { clock, timeOrigin } from './clock.js';
import { lz4Codec } from './lz4-codec.js';
import type { BrowserSenderConfig, FromWorker } from './messages.js';
import { uuid } from './uuid.js';

/** A budget over a plain ArrayBuffer: the same cells as the shared one, for one realm. */
export function localBudget(maxBytes: number): Budget {
  return new Budget(new ArrayBuffer(8 * BUDGET_CELLS) as unknown as SharedArrayBuffer, maxBytes);
}

export interface SenderHost {
  sender: Sender;
  budget: Budget;
}

export function startSender(cfg: BrowserSenderConfig, notify: (m: FromWorker) => void, budget = localBudget(cfg.maxBufferBytes)): SenderHost {
  const offsetMs = timeOrigin() - cfg.pageTimeOrigin;
  const http = fetchTransport(cfg.url, { apiKey: cfg.apiKey });
  const transport: Transport = {
    url: http.url,
    keyed: http.keyed,
    async post(path, body, contentType) {
      const r = await http.post(path, body, contentType);
      if (r.ok && path === '/ingestion/insert_process') notify({ type: 'registered', what: 'process' });
      else if (r.ok && path === '/ingestion/insert_stream' && typeof body === 'string') {
        notify({ type: 'registered', what: 'stream', streamId: (JSON.parse(body) as { stream_id: string }).stream_id });
      }
      return r;
    },
  };
  const options = {
    process: cfg.process,
    logStreamId: cfg.logStreamId,
    metricsStreamId: cfg.metricsStreamId,
    transport,
    // codec 2, as in Node: the lakehouse reuses a log block's compressed messages as Parquet pages
    codec: lz4SectionsCodec(lz4Codec),
    budget,
    nowTicks: () => (clock() + offsetMs) * 1e6,
    newId: uuid,
    concurrency: cfg.concurrency,
    backoff: cfg.backoff,
    warn: (m: string) => console.warn(m),
    sampling: cfg.sampling,
  };
  const sender = new Sender(options);
  return { sender, budget };
}
