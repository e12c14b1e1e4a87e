/**
 * Decides whether a request may pass on one side (ingestion or query), from the keys in the environment
 * (`SIRIUS_INGESTION_KEYS` / `SIRIUS_QUERY_KEYS`) and the managed keys in the metadata database.
 *
 * The rule: a side requires a key as soon as any key exists for it, in the environment or in the database
 * (a revoked key counts, so revoking the last key never opens a side); with none anywhere it is open.
 *
 * Several servers share the database, so each one keeps a snapshot of the key hashes and checks against it
 * synchronously (a hash and a map lookup). A check that finds the snapshot older than `refreshAfterMs`
 * starts one reload in the background; one that finds it older than `maxAgeMs` waits for the reload. So a
 * key revoked anywhere is refused everywhere within `maxAgeMs` (plus one reload), and an idle server does
 * not poll. When the database cannot be read, keys from the environment still pass and database keys get
 * `unavailable` (a retryable refusal) rather than a guess.
 *
 * "Last used" times are collected in memory and written in one statement every `touchEveryMs` at most.
 *
 * @example
 *   const keys = new KeyRegistry(lake.sql); await keys.start();
 *   const gate = keys.gate('query', config.queryKeys);
 *   const verdict = await gate.check(bearerToken);   // { ok: true } or { ok: false, reason, message }
 */
import { hashKey, hashKeys, hashMatches, keyMatches } from '../ingestion/api-keys.js';
import { loadKeyHashes, recordKeysUsed, type KeyHashRow, type KeyKind } from '../lake/key-store.js';
import type { SqlClient } from '../lake/sql-client.js';

export type KeyRefusal = 'missing' | 'unknown' | 'revoked' | 'unavailable';

export type KeyVerdict =
  | { ok: true }
  | { ok: false; reason: KeyRefusal; message: string };

/** One side's key check. Synchronous while the key snapshot is fresh, a promise when it must be reloaded. */
export interface KeyGate {
  check(presented: string | undefined): KeyVerdict | Promise<KeyVerdict>;
}

/** seconds a client told `unavailable` should wait */
export const KEY_RETRY_AFTER_SECONDS = 1;

const PASS: KeyVerdict = { ok: true };
const MISSING: KeyVerdict = { ok: false, reason: 'missing', message: 'missing API key' };
const UNKNOWN: KeyVerdict = { ok: false, reason: 'unknown', message: 'unknown API key' };
const REVOKED: KeyVerdict = { ok: false, reason: 'revoked', message: 'revoked API key' };
const UNAVAILABLE: KeyVerdict = {
  ok: false,
  reason: 'unavailable',
  message: `cannot check the API key: the metadata database is unavailable; retry in ${KEY_RETRY_AFTER_SECONDS} s`,
};

/** A gate over fixed keys only (no database): open when `keys` is empty. */
export function staticKeyGate(keys: readonly string[]): KeyGate {
  const hashes = hashKeys(keys);
  return {
    check(presented) {
      if (hashes.length === 0) return PASS;
      if (presented === undefined) return MISSING;
      return keyMatches(presented, hashes) ? PASS : UNKNOWN;
    },
  };
}

interface Snapshot {
  byHash: Map<string, KeyHashRow>;
  kinds: Set<KeyKind>;
  /** performance.now() when the query that read it started: it reflects every commit before then */
  takenAt: number;
}

export interface KeyRegistryOptions {
  /** a snapshot older than this is reloaded before it is trusted (default 900 ms: refusals within 1 s) */
  maxAgeMs?: number;
  /** a check on a snapshot older than this starts a background reload (default 400 ms) */
  refreshAfterMs?: number;
  /** last-used times are written at most this often (default 5 000 ms) */
  touchEveryMs?: number;
}

export class KeyRegistry {
  private snapshot: Snapshot = { byHash: new Map(), kinds: new Set(), takenAt: -Infinity };
  private reloading: Promise<boolean> | undefined;
  /** key name → Date.now() of its latest use, not yet written */
  private readonly used = new Map<string, number>();
  private touchTimer: NodeJS.Timeout | undefined;
  private touching: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly maxAgeMs: number;
  private readonly refreshAfterMs: number;
  private readonly touchEveryMs: number;

  constructor(
    private readonly sql: SqlClient,
    opts: KeyRegistryOptions = {},
  ) {
    this.maxAgeMs = opts.maxAgeMs ?? 900;
    this.refreshAfterMs = Math.min(opts.refreshAfterMs ?? 400, this.maxAgeMs);
    this.touchEveryMs = opts.touchEveryMs ?? 5_000;
  }

  /** Loads the first snapshot; throws when the database cannot be read (the server cannot start then). */
  async start(): Promise<void> {
    if (!(await this.reload())) throw new Error('cannot read the API keys from the metadata database');
  }

  gate(kind: KeyKind, envKeys: readonly string[]): KeyGate {
    const envHashes = hashKeys(envKeys);
    return {
      check: (presented) => {
        // one SHA-256 per check, compared with the environment's keys and looked up among the managed ones
        const hash = presented === undefined ? undefined : hashKey(presented);
        // environment keys need no database: they pass even when it is down
        if (hash !== undefined && envHashes.length > 0 && hashMatches(hash, envHashes)) return PASS;
        const hex = hash?.toString('hex');
        const age = performance.now() - this.snapshot.takenAt;
        if (age > this.refreshAfterMs) void this.reloadOnce();
        if (age <= this.maxAgeMs) return this.decide(kind, envHashes.length > 0, hex, true);
        return this.reloadOnce().then((fresh) => this.decide(kind, envHashes.length > 0, hex, fresh));
      },
    };
  }

  /** Writes pending last-used times and stops background work. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.touchTimer);
    await this.reloading?.catch(() => undefined);
    await this.touching;
    await this.flushUsed();
  }

  /** `hex`: the presented key's SHA-256, undefined when none was presented */
  private decide(kind: KeyKind, envKeys: boolean, hex: string | undefined, fresh: boolean): KeyVerdict {
    const snap = this.snapshot;
    const required = envKeys || snap.kinds.has(kind);
    // open side: with the database down no key can be created, so it stays as last seen (the request itself
    // needs the database and reports the outage)
    if (!required) return PASS;
    if (hex === undefined) return MISSING;
    const row = snap.byHash.get(hex);
    if (!row || row.kind !== kind) return fresh ? UNKNOWN : UNAVAILABLE;
    if (row.revoked) return REVOKED;
    if (!fresh) return UNAVAILABLE;
    this.noteUse(row.name);
    return PASS;
  }

  private reloadOnce(): Promise<boolean> {
    this.reloading ??= this.reload().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  private async reload(): Promise<boolean> {
    const takenAt = performance.now();
    try {
      const rows = await loadKeyHashes(this.sql);
      const byHash = new Map<string, KeyHashRow>();
      const kinds = new Set<KeyKind>();
      for (const r of rows) {
        byHash.set(r.hash, r);
        kinds.add(r.kind);
      }
      if (takenAt > this.snapshot.takenAt) this.snapshot = { byHash, kinds, takenAt };
      return true;
    } catch {
      return false;
    }
  }

  private noteUse(name: string): void {
    this.used.set(name, Date.now());
    if (this.touchTimer || this.closed) return;
    this.touchTimer = setTimeout(() => {
      this.touchTimer = undefined;
      this.touching = this.flushUsed();
    }, this.touchEveryMs);
    this.touchTimer.unref();
  }

  private async flushUsed(): Promise<void> {
    if (this.used.size === 0) return;
    const batch = new Map([...this.used].map(([name, ms]) => [name, BigInt(ms) * 1_000_000n] as const));
    this.used.clear();
    // a lost last-used time is not worth failing a request or a shutdown for
    await recordKeysUsed(this.sql, batch).catch(() => undefined);
  }
}
