/**
 * Building the app's SQL safely: user text (search boxes, ids from URLs) only ever enters a query as a
 * quoted literal or a LIKE pattern with its wildcards escaped.
 *
 * ```ts
 * `WHERE msg ILIKE ${likeContains("50%_off")} ESCAPE '\\'`
 * ```
 */
export function lit(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** A quoted pattern matching `s` anywhere; use with `ESCAPE '\\'`. */
export function likeContains(s: string): string {
  return lit(`%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
}

export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Process and stream ids are UUID-like; refuse anything else before it reaches SQL. */
export function isSafeId(s: string): boolean {
  return /^[A-Za-z0-9_.:-]{1,128}$/.test(s);
}
