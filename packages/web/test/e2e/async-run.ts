/**
 * An instrumented program with async spans only: `LOADS` concurrent asset loads, each with a nested decode,
 * one profile fetch per `FETCH_EVERY` loads, and one request that never ends. Its counts are exported for the
 * test that watches the Async spans tab.
 */
import { beginAsyncSpan, init, shutdown, spanAsync } from '@sirius/tracing';

export const ASYNC = { exe: 'e2e-async', loads: 24, fetchEvery: 4 } as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  init({ exe: ASYNC.exe, properties: { scenario: 'async' } });
  beginAsyncSpan('long_poll', { target: 'net' }); // never ended: counted as not ended
  await Promise.all(Array.from({ length: ASYNC.loads }, (_, i) => spanAsync('load_asset', async () => {
    await sleep(2 + (i % 5));
    await spanAsync('decode', () => sleep(1), { target: 'assets' });
    if (i % ASYNC.fetchEvery === 0) await spanAsync('fetch_profile', () => sleep(3), { target: 'net' });
  }, { target: 'assets' })));
  if (!(await shutdown({ timeoutMs: 20_000 }))) {
    console.error('async run: shutdown timed out before the server stored everything');
    process.exit(1);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
