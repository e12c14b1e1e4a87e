/**
 * `sirius admin`: maintenance on the lake the server uses (same data dir and environment as `sirius serve`).
 *   admin list-partitions [--view V]              one line per partition
 *   admin retire-partitions --view V [--before T] retire partitions whose events all precede T
 *   admin expire --retention 90d                  delete blocks, partitions, processes older than that
 */
import { resolveServeConfig } from '../config.js';
import { openLake } from '../lake/open-lake.js';
import { expireData, listPartitionsByHand, parseDuration, retirePartitionsByHand } from '../lakehouse/index.js';
import { UsageError, type Command } from './command.js';
import { parseCommandArgs } from './parse.js';

const OPTIONS = {
  view: { type: 'string' },
  before: { type: 'string' },
  retention: { type: 'string' },
  'data-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `--before`: nanoseconds since the epoch, or an ISO date/time. */
export function parseTime(text: string): bigint {
  if (/^-?\d+$/.test(text)) return BigInt(text);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new UsageError(`--before: ${JSON.stringify(text)} is neither nanoseconds nor an ISO date`);
  return BigInt(ms) * 1_000_000n;
}

export const adminCommand: Command = {
  name: 'admin',
  summary: 'lakehouse maintenance: list or retire partitions, expire old data',
  help: () => `Usage: sirius admin <action> [options]

Actions:
  list-partitions [--view <name>]                 list partitions (view, instance, insert range, rows, bytes, key)
  retire-partitions --view <name> [--before <t>]  retire a view's partitions (only those whose events all precede t:
                                                  nanoseconds since the epoch or an ISO date); objects are deleted
                                                  after the daemon's grace period
  expire --retention <duration>                   delete blocks, partitions and processes older than e.g. 90d

Options:
  --data-dir <path>   data folder (default: $SIRIUS_DATA_DIR, else ./.sirius); SIRIUS_SQL_CONNECTION_STRING and
                      SIRIUS_OBJECT_STORE_URI are read as by \`sirius serve\`
  -h, --help          show this help
`,
  async run(args) {
    const action = args[0]?.startsWith('-') ? undefined : args[0];
    const { values } = parseCommandArgs(action ? args.slice(1) : args, OPTIONS);
    if (values.help) {
      process.stdout.write(this.help());
      return 0;
    }
    if (!action || !['list-partitions', 'retire-partitions', 'expire'].includes(action)) {
      throw new UsageError(`admin: want an action among list-partitions, retire-partitions, expire (got ${action ?? 'none'})`);
    }
    if (action === 'retire-partitions' && !values.view) throw new UsageError('retire-partitions needs --view');
    if (action === 'expire' && !values.retention) throw new UsageError('expire needs --retention (e.g. 90d)');
    const before = values.before === undefined ? undefined : parseTime(values.before);
    let retention: bigint | undefined;
    if (values.retention !== undefined) {
      try {
        retention = parseDuration(values.retention);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    }
    const config = resolveServeConfig({ dataDir: values['data-dir'] });
    const lake = await openLake({ sqlConnectionString: config.sqlConnectionString, dataDir: config.dataDir, objectStoreUri: config.objectStoreUri });
    try {
      if (action === 'list-partitions') {
        for (const p of await listPartitionsByHand(lake, { view: values.view })) {
          console.log(
            [p.view_set, p.view_instance, p.begin_insert_time, p.end_insert_time, p.num_rows, p.file_size, p.file_path].join('\t'),
          );
        }
      } else if (action === 'retire-partitions') {
        const n = await retirePartitionsByHand(lake, { view: values.view!, before });
        console.log(`retired ${n} partition(s) of ${values.view}`);
      } else {
        const r = await expireData(lake, retention!);
        console.log(`expired ${r.blocks} blocks, ${r.partitions} partitions, ${r.streams} streams, ${r.processes} processes`);
      }
    } finally {
      await lake.close();
    }
    return 0;
  },
};
