/**
 * Measures a just-in-time resolve over a long range on PGlite: its wall time and the longest the event loop
 * stalled meanwhile (what /health would wait). Not a test; run by hand:
 *   node --import tsx packages/server/test/lakehouse/jit-long-range-bench.ts [days…]
 */
import { createLakehouse } from '../../src/lakehouse/index.js';
import { pgBackends } from '../support/pg.js';
import { cpuBlock, eventLoopStallProbe } from './jit-long-range-fixtures.js';
import { logBlock, makeProcess, makeStream, post, startTestLake, T0 } from './lake-fixtures.js';

const DAY = 86_400_000_000_000n;
const days = process.argv.slice(2).map(Number);
const t = await startTestLake(pgBackends[0]!);
try {
  for (const d of days.length ? days : [1000, 5000]) {
    // a process of its own per range, so every run builds its partitions
    const p = makeProcess();
    const log = makeStream(p.process_id, ['log']);
    const cpu = makeStream(p.process_id, ['cpu']);
    await post(t.server, 'insert_process', p);
    await post(t.server, 'insert_stream', log);
    await post(t.server, 'insert_stream', cpu);
    for (let i = 0; i < 3; i++) await post(t.server, 'insert_block', logBlock(log, i, 20).body);
    for (let i = 0; i < 3; i++) await post(t.server, 'insert_block', cpuBlock(cpu, i).body);
    for (const [view, instance] of [['log_entries', p.process_id], ['thread_spans', cpu.stream_id]] as const) {
      const lh = createLakehouse({ lake: t.server.lake, dataDir: t.dir });
      const probe = eventLoopStallProbe();
      const started = performance.now();
      const src = await lh.resolve(view, instance, { begin: T0 - BigInt(d) * DAY, end: T0 + DAY });
      const ms = performance.now() - started;
      const stall = await probe.stop();
      console.log(`${view} over ${d} days: ${ms.toFixed(0)} ms, max event-loop stall ${stall.toFixed(0)} ms, ${src.objectKeys.length} partitions`);
    }
  }
} finally {
  await t.close();
}
