/**
 * Server-side state behind opaque Flight handles (statement results awaiting DoGet, prepared
 * statements). Clients may vanish between calls, so every entry expires after `ttlMs` without use and
 * the store never holds more than `maxEntries`, nor more than `maxBytes` when entries have a size (the
 * least recently used entry goes first).
 *
 * @example
 *   const store = new HandleStore<QueryOutput>({ ttlMs: 300_000, maxEntries: 64 });
 *   const handle = store.put(output);   // 16 random bytes, sent to the client in a ticket
 *   store.take(handle);                 // the value, removed; undefined when unknown or expired
 */
import { randomBytes } from 'node:crypto';

export interface HandleStoreOptions<T = unknown> {
  ttlMs: number;
  maxEntries: number;
  /** most bytes held, as measured by `sizeOf` (default: unbounded) */
  maxBytes?: number;
  sizeOf?: (value: T) => number;
  /** clock in ms, replaceable for tests */
  now?: () => number;
}

interface Entry<T> {
  value: T;
  expires: number;
  bytes: number;
}

export class HandleStore<T> {
  // a Map iterates in insertion order: re-inserting on use keeps the least recently used first
  private readonly entries = new Map<string, Entry<T>>();
  private readonly now: () => number;
  private bytes = 0;

  constructor(private readonly opts: HandleStoreOptions<T>) {
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    this.sweep();
    return this.entries.size;
  }

  /** bytes held, as measured by `sizeOf` */
  get heldBytes(): number {
    return this.bytes;
  }

  put(value: T): Buffer {
    this.sweep();
    const bytes = this.opts.sizeOf?.(value) ?? 0;
    const maxBytes = this.opts.maxBytes ?? Infinity;
    while (this.entries.size > 0 && (this.entries.size >= this.opts.maxEntries || this.bytes + bytes > maxBytes)) {
      this.remove(this.entries.keys().next().value as string);
    }
    const handle = randomBytes(16);
    this.entries.set(handle.toString('hex'), { value, expires: this.now() + this.opts.ttlMs, bytes });
    this.bytes += bytes;
    return handle;
  }

  /** the value, its expiry pushed back (Flight SQL asks servers to reset a handle's timeout on use) */
  get(handle: Uint8Array): T | undefined {
    const key = Buffer.from(handle).toString('hex');
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires <= this.now()) {
      this.remove(key);
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
    if (v !== undefined) this.remove(Buffer.from(handle).toString('hex'));
    return v;
  }

  delete(handle: Uint8Array): boolean {
    return this.remove(Buffer.from(handle).toString('hex'));
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  private remove(key: string): boolean {
    const e = this.entries.get(key);
    if (!e) return false;
    this.entries.delete(key);
    this.bytes -= e.bytes;
    return true;
  }

  private sweep(): void {
    const now = this.now();
    for (const [k, e] of this.entries) if (e.expires <= now) this.remove(k);
  }
}
