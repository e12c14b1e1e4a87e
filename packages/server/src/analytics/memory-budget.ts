/**
 * A count of bytes shared by everything that holds query results on the Node side, so that many large
 * results at once fail one by one with a clear error instead of taking the whole process down.
 *
 * @example
 *   const budget = new MemoryBudget(512 * 2 ** 20);
 *   if (!budget.reserve(chunkBytes)) throw new Error('over budget');
 *   // … later
 *   budget.release(chunkBytes);
 */
export class MemoryBudget {
  private used = 0;

  constructor(readonly capacity: number) {}

  get inUse(): number {
    return this.used;
  }

  /** Takes `bytes` when they fit; false (and nothing taken) when they do not. */
  reserve(bytes: number): boolean {
    if (bytes <= 0) return true;
    if (this.used + bytes > this.capacity) return false;
    this.used += bytes;
    return true;
  }

  release(bytes: number): void {
    this.used = Math.max(0, this.used - Math.max(0, bytes));
  }
}
