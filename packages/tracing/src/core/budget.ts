/**
 * The process-wide memory bound, shared by every thread through a SharedArrayBuffer: bytes charged for
 * batches queued to the sender plus compressed blocks not yet acknowledged by the server, and the count of
 * events dropped because of it. Two more cells let worker threads (which post over a channel) know when the
 * sender listens and let the sender's flush know how many of their batches are still on the way. Calling threads charge before handing a buffer over; the sender releases.
 */
const INFLIGHT = 0;
const DROPPED = 1;
const REPORTED = 2;
/** 1 once the sender listens for worker threads' batches */
const READY = 3;
/** batches worker threads have posted to the sender's channel */
const POSTED = 4;
/** buffers the sender handed back to the thread that lent them, and how many of those that thread took in */
const GIVEN_BACK = 5;
const TAKEN_BACK = 6;
/** how many handed-back buffers may wait in a thread's message queue (a thread busy for seconds reads none) */
const MAX_UNREAD_GIVEN_BACK = 8;
export const BUDGET_CELLS = 7;

export class Budget {
  private readonly cells: BigInt64Array;

  constructor(readonly shared: SharedArrayBuffer, readonly maxBytes: number) {
    this.cells = new BigInt64Array(shared);
  }

  static create(maxBytes: number): Budget {
    return new Budget(new SharedArrayBuffer(8 * BUDGET_CELLS), maxBytes);
  }

  /** Charges `bytes` if that keeps the total within the bound; false (nothing charged) otherwise. */
  tryCharge(bytes: number): boolean {
    const b = BigInt(Math.ceil(bytes));
    const before = Atomics.add(this.cells, INFLIGHT, b);
    if (Number(before) + bytes > this.maxBytes) {
      Atomics.sub(this.cells, INFLIGHT, b);
      return false;
    }
    return true;
  }

  /** Charges unconditionally (a compressed block, or a sampled segment's raw records, replacing the batch it came from). */
  charge(bytes: number): void {
    Atomics.add(this.cells, INFLIGHT, BigInt(Math.ceil(bytes)));
  }

  release(bytes: number): void {
    Atomics.sub(this.cells, INFLIGHT, BigInt(Math.ceil(bytes)));
  }

  get inflight(): number {
    return Number(Atomics.load(this.cells, INFLIGHT));
  }

  countDropped(events: number): void {
    if (events > 0) Atomics.add(this.cells, DROPPED, BigInt(events));
  }

  get dropped(): number {
    return Number(Atomics.load(this.cells, DROPPED));
  }

  /** Marks drops as reported and returns how many were not yet (0 when none). */
  takeUnreported(): number {
    const dropped = Atomics.load(this.cells, DROPPED);
    const reported = Atomics.exchange(this.cells, REPORTED, dropped);
    return Number(dropped - reported);
  }

  /** Gives back a count taken by `takeUnreported` whose report could not be sent. */
  untake(events: number): void {
    Atomics.sub(this.cells, REPORTED, BigInt(events));
  }

  /** The sender calls this once it listens on the channel; worker threads hold their batches until then. */
  markReady(): void {
    Atomics.store(this.cells, READY, 1n);
  }

  get ready(): boolean {
    return Atomics.load(this.cells, READY) === 1n;
  }

  /** A worker thread posted a batch to the channel (the sender's flush waits until it has seen them all). */
  countPosted(): void {
    Atomics.add(this.cells, POSTED, 1n);
  }

  get posted(): number {
    return Number(Atomics.load(this.cells, POSTED));
  }

  /**
   * Whether the sender may hand a buffer back for reuse. A calling thread in a long synchronous loop never
   * reads its messages, so buffers handed back would pile up in its queue outside the bound; past a few
   * unread ones the sender lets the buffer go (garbage in its own heap) and the thread allocates a new one.
   */
  mayGiveBack(): boolean {
    if (Number(Atomics.load(this.cells, GIVEN_BACK) - Atomics.load(this.cells, TAKEN_BACK)) >= MAX_UNREAD_GIVEN_BACK) return false;
    Atomics.add(this.cells, GIVEN_BACK, 1n);
    return true;
  }

  /** The lending thread read a handed-back buffer. */
  tookBack(): void {
    Atomics.add(this.cells, TAKEN_BACK, 1n);
  }
}
