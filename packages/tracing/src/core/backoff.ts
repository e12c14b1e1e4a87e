/**
 * Exponential backoff with full jitter: attempt n waits a uniform random time in [0, min(cap, base·2^n)],
 * so that many clients recovering from the same outage do not retry in lockstep.
 */
export interface BackoffOptions {
  baseMs?: number;
  capMs?: number;
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly baseMs: number;
  private readonly capMs: number;
  private readonly random: () => number;

  constructor(o: BackoffOptions = {}) {
    this.baseMs = o.baseMs ?? 50;
    this.capMs = o.capMs ?? 2000;
    this.random = o.random ?? Math.random;
  }

  /** the delay before the next retry; each call grows the window */
  next(): number {
    const window = Math.min(this.capMs, this.baseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(this.random() * window);
  }

  reset(): void {
    this.attempt = 0;
  }

  get failures(): number {
    return this.attempt;
  }
}
