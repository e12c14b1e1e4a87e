/**
 * Test hook: with SIRIUS_LAKEHOUSE_STEP_PAUSE_MS set, each named step of materialization and compaction
 * pauses that long, so a crash test that kills the daemon at random times lands inside every step often
 * (between upload and commit, inside a transaction, …). Unset in production: a no-op.
 */
const pauseMs = Number(process.env.SIRIUS_LAKEHOUSE_STEP_PAUSE_MS ?? 0);

export async function crashPoint(_name: string): Promise<void> {
  if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
}
