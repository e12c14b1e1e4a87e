/**
 * Structured fields of other loggers as Sirius log properties (string → string): strings as they are,
 * numbers, booleans and bigints in decimal, anything else as JSON; null and undefined left out.
 */
import type { Properties } from '@sirius/transit';

export function propertyValue(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(v);
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    default:
      if (v === null) return undefined;
      if (v instanceof Error) return JSON.stringify({ type: v.name, message: v.message, stack: v.stack });
      try {
        return JSON.stringify(v);
      } catch {
        return String(v); // cycles
      }
  }
}

/** The fields of `o` except `skip`, as properties; null when none is left. */
export function toProperties(o: Record<string, unknown>, skip: ReadonlySet<string>, into: Properties | null = null): Properties | null {
  let out = into;
  for (const k in o) {
    if (skip.has(k)) continue;
    const v = propertyValue(o[k]);
    if (v === undefined) continue;
    (out ??= {})[k] = v;
  }
  return out;
}
