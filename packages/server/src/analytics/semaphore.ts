/**
 * Bounds how many queries run at once (DuckDB already uses every core for one query) and how many wait,
 * so a burst of dashboards cannot starve ingestion or exhaust memory.
 */
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly max: number,
    private readonly maxWaiting: number,
  ) {}

  /** resolves with a release function; throws when the waiting line is full */
  async acquire(): Promise<() => void> {
    if (this.active >= this.max) {
      if (this.waiting.length >= this.maxWaiting) throw new SemaphoreFullError(this.max, this.maxWaiting);
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
  }
}

export class SemaphoreFullError extends Error {
  override readonly name = 'SemaphoreFullError';
  constructor(max: number, maxWaiting: number) {
    super(`too many queries: ${max} running and ${maxWaiting} waiting; try again shortly`);
  }
}
