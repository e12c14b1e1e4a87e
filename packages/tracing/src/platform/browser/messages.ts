/** Messages between the page and the sender Web Worker. */
import type { ProcessInfo } from '@sirius/transit';
import type { Batch, ThreadHello } from '../../core/records.js';
import type { SamplingSettings } from '../../core/sampling-settings.js';

export interface BrowserSenderConfig {
  process: ProcessInfo;
  logStreamId: string;
  metricsStreamId: string;
  url: string;
  /** sent as a bearer token; '' for none */
  apiKey: string;
  maxBufferBytes: number;
  /** the page's time origin, epoch ms (the worker's own differs) */
  pageTimeOrigin: number;
  concurrency: number;
  backoff: { baseMs: number; capMs: number };
  /** tail sampling of cpu streams (resolved settings), or false to send every block */
  sampling: SamplingSettings | false;
}

export type ToWorker =
  | { type: 'start'; config: BrowserSenderConfig }
  | Batch
  | ThreadHello
  | { type: 'flush'; id: number }
  /** events the page dropped (memory bound, keepalive budget): reported once the server stores a block */
  | { type: 'dropped'; events: number }
  | { type: 'stop' };

export type FromWorker =
  | { type: 'ready' }
  /** a batch's buffer handed back, and the bytes the worker still holds (compressed blocks not yet stored) */
  | { type: 'reuse'; f64: Float64Array; bytes: number; held: number }
  | { type: 'held'; held: number }
  | { type: 'flushed'; id: number }
  /** a record the server stored: the process, or a stream */
  | { type: 'registered'; what: 'process' | 'stream'; streamId?: string };
