/**
 * Runs async jobs one at a time, in submission order. PGlite is a single session: a transaction must own
 * it from BEGIN to COMMIT, so every top-level query and transaction waits its turn here.
 *
 * @example
 *   const q = new SerialQueue();
 *   await q.run(() => db.query('SELECT 1'));
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job, job);
    // the queue continues whatever the job's outcome; the caller still sees the rejection
    this.tail = result.catch(() => undefined);
    return result;
  }
}
