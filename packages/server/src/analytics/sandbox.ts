/**
 * One DuckDB instance per query, used once and thrown away. A query's catalog, settings, variables,
 * macros and temp objects live in its own instance, so nothing it creates outlives it or is seen by
 * another user; and the instance can open exactly the files the query was planned to read — no folder,
 * so no listing (`glob`) and no other file (`read_text('/etc/passwd')`, PGlite's files, other processes'
 * temp files). Its configuration is locked before the user's SQL runs, so a query cannot widen it.
 *
 * Creating an instance and its macros costs ~10–20 ms, so once queries come the pool keeps instances ready
 * ahead of use (the first query makes its own).
 *
 * @example
 *   const pool = new SandboxPool({ memoryLimitBytes: 1 << 30, spillRoot: '/data/cache/spill' });
 *   const box = await pool.take();
 *   await box.seal(['/data/objects/views/log_entries/global/….parquet']);
 *   await box.connection.run('CREATE TEMP VIEW …');   // then the user's SELECT
 *   box.dispose();
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { SQL_FUNCTIONS } from './sql-functions.js';

export interface SandboxOptions {
  /** DuckDB memory_limit of each instance */
  memoryLimitBytes: number;
  /** DuckDB worker threads per instance (default: DuckDB's choice) */
  threads?: number;
  /** each instance spills under a folder of its own here, removed with it */
  spillRoot: string;
  /** instances kept ready (default 1) */
  spare?: number;
}

export interface Sandbox {
  readonly connection: DuckDBConnection;
  /** Allows reading exactly these files, then turns external access off and locks the configuration. */
  seal(readableFiles: readonly string[]): Promise<void>;
  /** Cancels what runs (safe at any time). */
  interrupt(): void;
  /** Closes the instance and removes its spill folder. */
  dispose(): void;
}

export class SandboxPool {
  private readonly ready: Promise<Sandbox>[] = [];
  private closed = false;

  constructor(private readonly opts: SandboxOptions) {
    mkdirSync(opts.spillRoot, { recursive: true });
    // no spare until the first query: an idle server (and its start) does not pay for a DuckDB instance
  }

  /** A fresh sandbox (never one used before). */
  async take(): Promise<Sandbox> {
    if (this.closed) throw new Error('the sandbox pool is closed');
    const next = this.ready.shift() ?? createSandbox(this.opts);
    this.refill();
    return next;
  }

  close(): void {
    this.closed = true;
    for (const p of this.ready.splice(0)) p.then((b) => b.dispose(), () => undefined);
  }

  private refill(): void {
    while (!this.closed && this.ready.length < (this.opts.spare ?? 1)) {
      const p = createSandbox(this.opts);
      p.catch(() => undefined); // surfaced to whoever takes it
      this.ready.push(p);
    }
  }
}

async function createSandbox(opts: SandboxOptions): Promise<Sandbox> {
  const spill = join(opts.spillRoot, randomBytes(8).toString('hex'));
  mkdirSync(spill, { recursive: true });
  const config: Record<string, string> = {
    memory_limit: `${Math.max(64, Math.floor(opts.memoryLimitBytes / 2 ** 20))}MiB`,
    temp_directory: spill,
    // nothing may be fetched or loaded from outside the process
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  };
  if (opts.threads) config.threads = String(Math.max(1, Math.trunc(opts.threads)));
  let instance: DuckDBInstance | undefined;
  try {
    instance = await DuckDBInstance.create(':memory:', config);
    const connection = await instance.connect();
    // times are UTC instants whatever the host's zone (docs/sql.md, "Time"); locked with the rest at seal
    await connection.run(`SET TimeZone = 'UTC'`);
    for (const stmt of SQL_FUNCTIONS) await connection.run(stmt);
    const inst = instance;
    let disposed = false;
    return {
      connection,
      async seal(files) {
        // allowed_paths matches exact paths; an empty list must still be a valid list literal
        // one round trip; the order matters: what may be read, then no other access, then nothing changes
        await connection.run(
          `SET allowed_paths = [${files.map(sqlString).join(', ')}]; SET allowed_directories = []; ` +
            `SET enable_external_access = false; SET lock_configuration = true`,
        );
      },
      interrupt() {
        if (!disposed) connection.interrupt();
      },
      dispose() {
        if (disposed) return;
        disposed = true;
        connection.closeSync();
        inst.closeSync();
        rmSync(spill, { recursive: true, force: true });
      },
    };
  } catch (err) {
    instance?.closeSync();
    rmSync(spill, { recursive: true, force: true });
    throw err;
  }
}

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** Bytes in a DuckDB-style size such as '2GB', '512MiB' or '1.5 GB' (decimal and binary units). */
export function parseByteSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?i?B?)\s*$/i.exec(text);
  if (!m) throw new RangeError(`not a size: ${JSON.stringify(text)} (want e.g. 2GB or 512MiB)`);
  const unit = m[2]!.toUpperCase();
  const power = 'BKMGT'.indexOf(unit[0] ?? 'B');
  const base = unit.includes('I') ? 1024 : 1000;
  return Math.floor(Number(m[1]) * base ** Math.max(0, power));
}
