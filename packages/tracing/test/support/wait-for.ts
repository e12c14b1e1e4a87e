/** Polls `cond` until it returns a truthy value or the deadline passes (then throws, naming `what`). */
export async function waitFor<T>(what: string, cond: () => T | Promise<T>, timeoutMs = 30_000, everyMs = 20): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
