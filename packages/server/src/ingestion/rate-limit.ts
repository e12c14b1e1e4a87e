/**
 * Request rate limits on the ingestion routes, per client address and per API key: token buckets that
 * refill at `rate` requests per second up to `burst`. Over the limit a request answers 429 with
 * `Retry-After` (whole seconds until a token is back) and a reason, before its body is read or anything is
 * written. The client limit runs before the key check (so a flood of bad keys is bounded too), the key limit
 * after it (only keys that passed get a bucket).
 *
 * Hand-written because it is a few lines of arithmetic: the npm limiters count fixed windows, which can
 * express neither a burst beside a steady rate nor the exact wait a 429 should announce.
 *
 * @example
 *   app.use('*', limitByClient(new TokenBuckets({ rate: 200, burst: 400 })));
 *   app.use('*', requireApiKey(gate));
 *   app.use('*', limitByKey(new TokenBuckets({ rate: 2000, burst: 4000 })));
 */
import type { Context, MiddlewareHandler } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { bearerToken, hashKey } from './api-keys.js';

/** Requests per second sustained and at once, per client address and per API key; a rate of 0 is no limit. */
export interface IngestionRateLimits {
  clientRate: number;
  clientBurst: number;
  keyRate: number;
  keyBurst: number;
}

/**
 * Far above what instrumented programs send (a few requests per second each), so only floods meet them; a key
 * shared by every player of a browser game gets more than one address.
 */
export const DEFAULT_INGESTION_RATE_LIMITS: IngestionRateLimits = { clientRate: 1000, clientBurst: 2000, keyRate: 10_000, keyBurst: 20_000 };

export interface BucketOptions {
  /** requests per second, sustained; 0 turns the limit off */
  rate: number;
  /** requests allowed at once after a quiet spell (at least 1) */
  burst: number;
  /** most buckets kept; the least recently used go first (default 100 000) */
  maxBuckets?: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  /** ms of the last refill */
  at: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxBuckets: number;
  private readonly now: () => number;

  constructor(readonly o: BucketOptions) {
    if (!(o.rate >= 0) || !(o.burst >= 1)) throw new RangeError(`bad rate limit ${o.rate}/s, burst ${o.burst}`);
    this.maxBuckets = o.maxBuckets ?? 100_000;
    this.now = o.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.o.rate > 0;
  }

  /** Takes one token for `key`: 0 when granted, else the ms until one is back. */
  take(key: string): number {
    if (!this.enabled) return 0;
    const now = this.now();
    let b = this.buckets.get(key);
    if (b === undefined) {
      b = { tokens: this.o.burst, at: now };
      if (this.buckets.size >= this.maxBuckets) this.buckets.delete(this.buckets.keys().next().value!);
    } else {
      b.tokens = Math.min(this.o.burst, b.tokens + ((now - b.at) / 1000) * this.o.rate);
      b.at = now;
      // re-inserted below, so that Map order is least recently used first
      this.buckets.delete(key);
    }
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) / this.o.rate) * 1000);
  }

  get size(): number {
    return this.buckets.size;
  }
}

/** 429 once the client's address has spent its bucket. */
export function limitByClient(buckets: TokenBuckets): MiddlewareHandler {
  return async (c, next) => {
    if (!buckets.enabled) return next();
    const waitMs = buckets.take(clientAddress(c));
    if (waitMs > 0) return tooMany(c, waitMs, `more than ${buckets.o.rate} requests/s (burst ${buckets.o.burst}) from this address`);
    return next();
  };
}

/** 429 once the request's API key has spent its bucket (requests without a key pass: the client limit holds them). */
export function limitByKey(buckets: TokenBuckets): MiddlewareHandler {
  return async (c, next) => {
    const key = buckets.enabled ? bearerToken(c.req.header('authorization')) : undefined;
    if (key === undefined) return next();
    // keyed by a hash: the raw key is not kept in memory longer than the request
    const waitMs = buckets.take(hashKey(key).toString('base64'));
    if (waitMs > 0) return tooMany(c, waitMs, `more than ${buckets.o.rate} requests/s (burst ${buckets.o.burst}) with this API key`);
    return next();
  };
}

function tooMany(c: Context, waitMs: number, what: string): Response {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return c.json({ error: `rate limit: ${what}; retry after ${seconds} s` }, 429, { 'Retry-After': String(seconds) });
}

/** the peer's address; behind a proxy that is the proxy (forwarded headers are not trusted) */
function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    // not served by @hono/node-server (app.fetch called directly): one shared bucket
    return 'unknown';
  }
}
