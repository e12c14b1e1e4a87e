/**
 * Server-side state behind opaque Flight handles (statement results awaiting DoGet, prepared
 * statements). Clients may vanish between calls, so every entry expires after `ttlMs` without use and
 * the store never holds more than `maxEntries` (the least recently used entry goes first).
 *
 * @example
 *   const store = new HandleStore<QueryOutput>({ ttlMs: 300_000, maxEntries: 64 });
 *   const handle = store.put(output);   // 16 random bytes, sent to the client in a ticket
 *   store.take(handle);                 // the value, removed; undefined when unknown or expired
 */
import { randomBytes } from 'node:crypto';

export interface HandleStoreOptions {
  ttlMs: number;
  maxEntries: number;
  /** clock in ms, replaceable for tests */
  now?: () => number;
}

interface Entry<T> {
  value: T;
  expires: number;
}

export class HandleStore<T> {
  // a Map iterates in insertion order: re-inserting on use keeps the least recently used first
  private readonly entries = new Map<string, Entry<T>>();
  private readonly now: () => number;

  constructor(private readonly opts: HandleStoreOptions) {
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    this.sweep();
    return this.entries.size;
  }

  put(value: T): Buffer {
    this.sweep();
    while (this.entries.size >= this.opts.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    const handle = randomBytes(16);
    this.entries.set(handle.toString('hex'), { value, expires: this.now() + this.opts.ttlMs });
    return handle;
  }

  /** the value, its expiry pushed back (Flight SQL asks servers to reset a handle's timeout on use) */
  get(handle: Uint8Array): T | undefined {
    const key = Buffer.from(handle).toString('hex');
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    this.entries.delete(key);
    e.expires = this.now() + this.opts.ttlMs;
    this.entries.set(key, e);
    return e.value;
  }

  /** the value, removed (single-use tickets) */
  take(handle: Uint8Array): T | undefined {
    const v = this.get(handle);
    if (v !== undefined) this.entries.delete(Buffer.from(handle).toString('hex'));
    return v;
  }

  delete(handle: Uint8Array): boolean {
    return this.entries.delete(Buffer.from(handle).toString('hex'));
  }

  clear(): void {
    this.entries.clear();
  }

  private sweep(): void {
    const now = this.now();
    for (const [k, e] of this.entries) if (e.expires <= now) this.entries.delete(k);
  }
}
