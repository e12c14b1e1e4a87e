/**
 * The sender Web Worker's loop: runs {@link startSender} on the page's batches, hands each buffer back, and
 * keeps the page informed of the bytes it holds (the page enforces the memory bound with that figure). The
 * worker is started from a Blob URL so that the SDK stays one file: its code is either the SDK itself
 * (imported by URL; runtime.ts calls this when it finds itself in the worker) or, in the bundlers' build, a
 * copy bundled as a string (sender-worker-entry.ts).
 */
import type { Batch } from '../../core/records.js';
import type { FromWorker, ToWorker } from './messages.js';
import { startSender, type SenderHost } from './sender-host.js';

interface WorkerScope {
  postMessage(m: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  close(): void;
}

/** the name the page gives the worker, by which the SDK knows it runs there */
export const SENDER_WORKER_NAME = 'sirius-sender';

let host: SenderHost | undefined;
let lastHeld = -1;
let heldTimer: ReturnType<typeof setInterval> | undefined;

let scope: WorkerScope;

function post(m: FromWorker, transfer?: Transferable[]): void {
  scope.postMessage(m, transfer);
}

function reportHeld(): void {
  const held = host?.budget.inflight ?? 0;
  if (held === lastHeld) return;
  lastHeld = held;
  post({ type: 'held', held });
}

export function runSenderWorker(): void {
  scope = self as unknown as WorkerScope;
  scope.onmessage = onMessage;
  post({ type: 'ready' });
}

function onMessage(e: MessageEvent<ToWorker>): void {
  const m = e.data;
  if (m.type === 'start') {
    host = startSender(m.config, post);
    // uploads finish between batches: the page learns of the bytes they free within a quarter second
    heldTimer = setInterval(reportHeld, 250);
    return;
  }
  const h = host;
  if (h === undefined) return;
  switch (m.type) {
    case 'thread':
      h.sender.hello(m);
      break;
    case 'batch': {
      const b = m as Batch;
      h.budget.charge(b.bytes); // Sender.batch releases it once encoded
      h.sender.batch(b);
      lastHeld = h.budget.inflight;
      post({ type: 'reuse', f64: b.f64, bytes: b.bytes, held: lastHeld }, [b.f64.buffer as ArrayBuffer]);
      break;
    }
    case 'dropped':
      h.budget.countDropped(m.events);
      break;
    case 'flush':
      void h.sender.flush().then(() => post({ type: 'flushed', id: m.id }));
      break;
    case 'stop':
      h.sender.stop();
      if (heldTimer !== undefined) clearInterval(heldTimer);
      scope.close();
      break;
  }
}
