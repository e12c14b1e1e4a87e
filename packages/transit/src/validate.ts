import { TransitError } from './model.js';
import type { ProcessInfo, Properties, StreamInfo } from './model.js';
import { isUuid } from './uuid.js';

/**
 * What a process or stream description may hold. Every value must also fit where the server keeps it
 * (PostgreSQL text, jsonb and bigint columns), so what passes here can always be stored: strings hold no NUL
 * and no lone surrogate (neither can be stored as text or jsonb), and integers fit their column.
 */
export const METADATA_LIMITS = {
  /** UTF-16 code units in one string field or property value */
  maxStringLength: 64 * 1024,
  /** UTF-16 code units in a property name or a tag */
  maxNameLength: 1024,
  maxProperties: 1024,
  maxTags: 64,
} as const;

/**
 * Checks a parsed JSON body from `POST /ingestion/insert_process` and returns a clean ProcessInfo (unknown
 * fields dropped, ids lowercased). Throws TransitError('corrupt', '<field>: <reason>').
 * `parent_process_id` and `properties` may be omitted (null and {}); times may be integers or decimal strings.
 * `tsc_frequency` is a positive integer (ticks per second): a fraction would be stored rounded, 0.4 as 0.
 *
 * @example
 * const process = validateProcessInfo(JSON.parse(body));
 */
export function validateProcessInfo(value: unknown): ProcessInfo {
  const o = object(value, 'process');
  const tsc = o['tsc_frequency'];
  if (typeof tsc !== 'number' || !Number.isSafeInteger(tsc) || tsc <= 0) {
    fail('tsc_frequency', 'must be a positive integer below 2^53 (ticks per second)');
  }
  const parent = o['parent_process_id'];
  return {
    process_id: uuid(o, 'process_id'),
    exe: str(o, 'exe'),
    username: str(o, 'username'),
    realname: str(o, 'realname'),
    computer: str(o, 'computer'),
    distro: str(o, 'distro'),
    cpu_brand: str(o, 'cpu_brand'),
    tsc_frequency: tsc,
    start_time: int64(o, 'start_time'),
    start_ticks: int64(o, 'start_ticks'),
    parent_process_id: parent === null || parent === undefined ? null : uuid(o, 'parent_process_id'),
    properties: properties(o['properties'], 'properties'),
  };
}

/**
 * Checks a parsed JSON body from `POST /ingestion/insert_stream`. `properties` may be omitted.
 *
 * @example
 * const stream = validateStreamInfo({ stream_id, process_id, tags: ['cpu'], properties: {} });
 */
export function validateStreamInfo(value: unknown): StreamInfo {
  const o = object(value, 'stream');
  const tags = o['tags'];
  if (!Array.isArray(tags)) fail('tags', 'must be an array of strings');
  if (tags.length > METADATA_LIMITS.maxTags) fail('tags', `has more than ${METADATA_LIMITS.maxTags} tags`);
  tags.forEach((t, i) => {
    if (typeof t !== 'string') fail(`tags[${i}]`, 'must be a string');
    storable(t, `tags[${i}]`, METADATA_LIMITS.maxNameLength);
  });
  return {
    stream_id: uuid(o, 'stream_id'),
    process_id: uuid(o, 'process_id'),
    tags: [...(tags as string[])],
    properties: properties(o['properties'], 'properties'),
  };
}

function fail(field: string, reason: string): never {
  throw new TransitError('corrupt', `${field}: ${reason}`);
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(what, 'must be a JSON object');
  return value as Record<string, unknown>;
}

function str(o: Record<string, unknown>, field: string): string {
  const v = o[field];
  if (typeof v !== 'string') fail(field, v === undefined ? 'is missing' : 'must be a string');
  return storable(v, field, METADATA_LIMITS.maxStringLength);
}

/** a lone surrogate: a high one not followed by a low one, or a low one not preceded by a high one */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Refuses what PostgreSQL text and jsonb cannot hold, and strings past `max` code units. */
function storable(v: string, field: string, max: number): string {
  if (v.length > max) fail(field, `is longer than ${max} characters`);
  if (v.includes('\u0000')) fail(field, 'contains a NUL character');
  if (LONE_SURROGATE.test(v)) fail(field, 'contains a lone UTF-16 surrogate (not valid Unicode)');
  return v;
}

function uuid(o: Record<string, unknown>, field: string): string {
  const v = o[field];
  if (v === undefined) fail(field, 'is missing');
  if (!isUuid(v)) fail(field, 'must be a UUID string');
  return v.toLowerCase();
}

const INT64_RE = /^-?(0|[1-9][0-9]{0,18})$/;

/** Accepts a decimal string or a safe integer; returns the canonical decimal string of a signed 64-bit value. */
function int64(o: Record<string, unknown>, field: string): string {
  const v = o[field];
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) fail(field, 'must be an integer (use a decimal string beyond 2^53)');
    return String(v);
  }
  if (typeof v !== 'string') fail(field, v === undefined ? 'is missing' : 'must be a decimal integer string');
  if (!INT64_RE.test(v)) fail(field, 'must be a decimal integer string');
  const b = BigInt(v);
  if (b > 0x7fffffffffffffffn || b < -0x8000000000000000n) fail(field, 'is outside the signed 64-bit range');
  return b.toString();
}

function properties(v: unknown, field: string): Properties {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) fail(field, 'must be an object of strings');
  const out: Properties = {};
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > METADATA_LIMITS.maxProperties) fail(field, `has more than ${METADATA_LIMITS.maxProperties} properties`);
  for (const [k, val] of entries) {
    // JSON-quoted and cut, so a hostile name cannot flood or break the error message
    storable(k, `${field} name ${JSON.stringify(k.slice(0, 64))}`, METADATA_LIMITS.maxNameLength);
    if (typeof val !== 'string') fail(`${field}.${k}`, 'must be a string');
    storable(val, `${field}.${k}`, METADATA_LIMITS.maxStringLength);
    if (k === '__proto__') Object.defineProperty(out, k, { value: val, enumerable: true, writable: true, configurable: true });
    else out[k] = val;
  }
  return out;
}
