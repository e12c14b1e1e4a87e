/**
 * `sirius admin`: maintenance on the lake the server uses (same data dir and environment as `sirius serve`).
 *   admin list-partitions [--view V]              one line per partition
 *   admin retire-partitions --view V [--before T] retire partitions whose events all precede T
 *   admin expire --retention 90d                  delete blocks, partitions, processes older than that
 *   admin keys create <name> --kind K | list | revoke <name>   managed API keys (docs/security.md)
 */
import { resolveServeConfig } from '../config.js';
import { openLake } from '../lake/open-lake.js';
import { expireData, listPartitionsByHand, parseDuration, retirePartitionsByHand } from '../lakehouse/index.js';
import { createKey, KeyStoreError, listKeys, revokeKey, type StoredKey } from '../lake/key-store.js';
import type { SqlClient } from '../lake/sql-client.js';
import { UsageError, type Command } from './command.js';
import { parseCommandArgs } from './parse.js';

const OPTIONS = {
  view: { type: 'string' },
  before: { type: 'string' },
  retention: { type: 'string' },
  kind: { type: 'string' },
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
  summary: 'lakehouse maintenance and API keys: partitions, expiry, keys create|list|revoke',
  help: () => `Usage: sirius admin <action> [options]

Actions:
  list-partitions [--view <name>]                 list partitions (view, instance, insert range, rows, bytes, key)
  retire-partitions --view <name> [--before <t>]  retire a view's partitions (only those whose events all precede t:
                                                  nanoseconds since the epoch or an ISO date); objects are deleted
                                                  after the daemon's grace period
  expire --retention <duration>                   delete blocks, partitions and processes older than e.g. 90d
  keys create <name> --kind ingestion|query       create an API key; prints the key once (only its hash is kept)
  keys list                                       name, kind, created, last used, revoked
  keys revoke <name>                              refuse the key on every server within a second

  Keys work alongside SIRIUS_INGESTION_KEYS / SIRIUS_QUERY_KEYS: a side that has any key, in the environment or
  here (revoked ones too), requires one. With the embedded database (no SIRIUS_SQL_CONNECTION_STRING) stop the
  server first: PGlite allows one process at a time.

Options:
  --data-dir <path>   data folder (default: $SIRIUS_DATA_DIR, else ./.sirius); SIRIUS_SQL_CONNECTION_STRING and
                      SIRIUS_OBJECT_STORE_URI are read as by \`sirius serve\`
  -h, --help          show this help
`,
  async run(args) {
    const action = args[0]?.startsWith('-') ? undefined : args[0];
    if (action === 'keys') return runKeys(args.slice(1), this.help());
    const { values } = parseCommandArgs(action ? args.slice(1) : args, OPTIONS);
    if (values.help) {
      process.stdout.write(this.help());
      return 0;
    }
    if (!action || !['list-partitions', 'retire-partitions', 'expire'].includes(action)) {
      throw new UsageError(`admin: want an action among list-partitions, retire-partitions, expire, keys (got ${action ?? 'none'})`);
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

/** `admin keys create <name> --kind K | list | revoke <name>` */
async function runKeys(args: string[], help: string): Promise<number> {
  const verb = args[0]?.startsWith('-') ? undefined : args[0];
  const name = args[1]?.startsWith('-') ? undefined : args[1];
  const rest = args.slice(verb === undefined ? 0 : name === undefined ? 1 : 2);
  const { values } = parseCommandArgs(rest, OPTIONS);
  if (values.help) {
    process.stdout.write(help);
    return 0;
  }
  if (verb === undefined || !['create', 'list', 'revoke'].includes(verb)) {
    throw new UsageError(`admin keys: want create, list or revoke (got ${verb ?? 'none'})`);
  }
  if (verb === 'list' && name !== undefined) throw new UsageError(`admin keys list takes no name (got ${JSON.stringify(name)})`);
  if (verb !== 'list' && name === undefined) throw new UsageError(`admin keys ${verb} needs a key name`);
  if (verb === 'create' && values.kind !== 'ingestion' && values.kind !== 'query') {
    throw new UsageError(`admin keys create needs --kind ingestion or --kind query${values.kind === undefined ? '' : ` (got ${JSON.stringify(values.kind)})`}`);
  }
  if (verb !== 'create' && values.kind !== undefined) throw new UsageError(`--kind is only for admin keys create`);
  const config = resolveServeConfig({ dataDir: values['data-dir'] });
  const lake = await openLake({ sqlConnectionString: config.sqlConnectionString, dataDir: config.dataDir, objectStoreUri: config.objectStoreUri });
  try {
    return await keysAction(lake.sql, verb, name, values.kind as 'ingestion' | 'query' | undefined);
  } catch (err) {
    if (!(err instanceof KeyStoreError)) throw err;
    process.stderr.write(`sirius: ${err.message}\n`);
    return 1;
  } finally {
    await lake.close();
  }
}

async function keysAction(sql: SqlClient, verb: string, name: string | undefined, kind: 'ingestion' | 'query' | undefined): Promise<number> {
  if (verb === 'create') {
    const key = await createKey(sql, name!, kind!);
    // the key alone on stdout, so that `KEY=$(sirius admin keys create …)` works; the advice on stderr
    process.stdout.write(`${key.secret}\n`);
    process.stderr.write(
      `created ${key.kind} key "${key.name}". Store it now: it is shown only this once (the server keeps only its hash).\n`,
    );
  } else if (verb === 'revoke') {
    await revokeKey(sql, name!);
    process.stdout.write(`revoked key "${name}": refused by every server within a second\n`);
  } else {
    process.stdout.write(formatKeys(await listKeys(sql)));
  }
  return 0;
}

/** One tab-separated line per key under a header; times in ISO-8601 UTC, '-' for never. */
export function formatKeys(keys: readonly StoredKey[]): string {
  const time = (ns: bigint | null) => (ns === null ? '-' : new Date(Number(ns / 1_000_000n)).toISOString());
  const lines = [['name', 'kind', 'created', 'last_used', 'revoked'].join('\t')];
  for (const k of keys) lines.push([k.name, k.kind, time(k.createdTime), time(k.lastUsedTime), time(k.revokedTime)].join('\t'));
  return `${lines.join('\n')}\n`;
}
