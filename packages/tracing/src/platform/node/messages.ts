/** Messages between calling threads and the Node sender worker. */
import type { ProcessInfo } from '@sirius/transit';
import type { Batch, ThreadHello } from '../../core/records.js';
import type { SamplingSettings } from '../../core/sampling-settings.js';

/** `workerData` of the sender worker. */
export interface SenderConfig {
  process: ProcessInfo;
  logStreamId: string;
  metricsStreamId: string;
  url: string;
  /** sent as a bearer token; '' for none */
  apiKey: string;
  budget: SharedArrayBuffer;
  maxBufferBytes: number;
  /** BroadcastChannel name on which worker threads post their batches */
  channel: string;
  /** process time origin, epoch ms */
  processTimeOrigin: number;
  concurrency: number;
  backoff: { baseMs: number; capMs: number };
  /** tail sampling of cpu streams, or false */
  sampling: SamplingSettings | false;
}

export type ToSender = Batch | ThreadHello | { type: 'flush'; id: number } | { type: 'stop' };
export type FromSender = { type: 'flushed'; id: number } | { type: 'reuse'; f64: Float64Array };

/** What the main thread publishes (worker_threads environment data) for worker threads that use the library. */
export interface SharedConfig {
  channel: string;
  budget: SharedArrayBuffer;
  maxBufferBytes: number;
  processTimeOrigin: number;
}

export const ENV_KEY = 'sirius.tracing';
