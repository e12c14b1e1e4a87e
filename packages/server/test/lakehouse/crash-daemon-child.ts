/**
 * Child process for the crash test: runs a lakehouse daemon on the lake named by the environment until it is
 * killed. Prints "ready" once the daemon is started.
 */
import { openLake } from '../../src/lake/open-lake.js';
import { startDaemon } from '../../src/lakehouse/index.js';

const lake = await openLake({
  sqlConnectionString: process.env.CRASH_SQL,
  dataDir: process.env.CRASH_DIR!,
  objectStoreUri: process.env.CRASH_OBJECTS!,
});
startDaemon({ lake, dataDir: process.env.CRASH_DIR!, intervalMs: 5, lagMs: 0, graceMs: 0, quiet: true });
process.stdout.write('ready\n');
