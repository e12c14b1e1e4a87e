/**
 * Expands a Grafana PostgreSQL-datasource query the way Grafana does before sending it, following Grafana's
 * documentation of its SQL macros: template variables first (`$var`, `${var}`, `[[var]]`), then the
 * interval and epoch values (`$__interval_ms`, `$__interval`, `$__unixEpochFrom()`, `$__unixEpochTo()`),
 * then the macros `$__name(args)`. Times are written as Go's RFC 3339 with nanoseconds in UTC (fraction
 * without trailing zeros), numbers of seconds as Go's `%v` prints them.
 *
 * @example
 *   expandGrafanaSql(`SELECT $__timeGroupAlias(time, $__interval) … WHERE $__timeFilter(time)`,
 *     { from: new Date('2024-05-01T10:00:00Z'), to: new Date('2024-05-01T11:00:00Z'), intervalMs: 60_000 })
 *   // SELECT floor(extract(epoch from time)/60)*60 AS "time" … WHERE time BETWEEN '2024-05-01T10:00:00Z' AND '2024-05-01T11:00:00Z'
 */

export interface GrafanaContext {
  from: Date;
  to: Date;
  /** the panel's interval (`$__interval`), ms */
  intervalMs: number;
  /** template variables by name, with their current values */
  variables?: Record<string, string>;
}

/** RFC 3339 with nanosecond precision as Go formats it: UTC, `Z`, the fraction only when non-zero, no trailing zeros */
export function rfc3339Nano(d: Date): string {
  return d.toISOString().replace(/\.(\d*?)0*Z$/, (_m, frac: string) => (frac ? `.${frac}Z` : 'Z'));
}

/** an interval as Grafana prints `$__interval`: the largest whole unit among d, h, m, s, else ms */
export function formatInterval(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  if (ms >= 1000) return `${Math.floor(ms / 1000)}s`;
  return `${ms}ms`;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };

/** seconds in an interval argument such as `'5m'`, `1h` or `30s` */
function intervalSeconds(arg: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)$/.exec(arg.replace(/^'|'$/g, '').trim());
  if (!m) throw new Error(`error parsing interval ${arg}`);
  return (Number(m[1]) * UNIT_MS[m[2]!]!) / 1000;
}

function seconds(d: Date): number {
  return Math.floor(d.getTime() / 1000);
}

function nanos(d: Date): string {
  return (BigInt(d.getTime()) * 1_000_000n).toString();
}

function macro(name: string, args: string[], ctx: GrafanaContext): string {
  const need = (n: number) => {
    if (args.length < n || args[0] === '') throw new Error(`missing argument for macro $${name}`);
  };
  const from = `'${rfc3339Nano(ctx.from)}'`;
  const to = `'${rfc3339Nano(ctx.to)}'`;
  switch (name) {
    case '__time': need(1); return `${args[0]} AS "time"`;
    case '__timeEpoch': need(1); return `extract(epoch from ${args[0]}) as "time"`;
    case '__timeFilter': need(1); return `${args[0]} BETWEEN ${from} AND ${to}`;
    case '__timeFrom': return from;
    case '__timeTo': return to;
    case '__timeGroup': {
      need(2);
      const s = intervalSeconds(args[1]!);
      return `floor(extract(epoch from ${args[0]})/${s})*${s}`;
    }
    case '__timeGroupAlias': return `${macro('__timeGroup', args, ctx)} AS "time"`;
    case '__unixEpochFilter': need(1); return `${args[0]} >= ${seconds(ctx.from)} AND ${args[0]} <= ${seconds(ctx.to)}`;
    case '__unixEpochNanoFilter': need(1); return `${args[0]} >= ${nanos(ctx.from)} AND ${args[0]} <= ${nanos(ctx.to)}`;
    case '__unixEpochNanoFrom': return nanos(ctx.from);
    case '__unixEpochNanoTo': return nanos(ctx.to);
    case '__unixEpochGroup': {
      need(2);
      const s = intervalSeconds(args[1]!);
      return `floor((${args[0]})/${s})*${s}`;
    }
    case '__unixEpochGroupAlias': return `${macro('__unixEpochGroup', args, ctx)} AS "time"`;
    default: throw new Error(`unknown macro "${name}"`);
  }
}

export function expandGrafanaSql(sql: string, ctx: GrafanaContext): string {
  let out = sql;
  for (const [name, value] of Object.entries(ctx.variables ?? {})) {
    out = out.split(`\${${name}}`).join(value).split(`[[${name}]]`).join(value).replace(new RegExp(`\\$${name}\\b`, 'g'), value);
  }
  out = out
    .split('$__interval_ms').join(String(ctx.intervalMs))
    .split('$__interval').join(formatInterval(ctx.intervalMs))
    .split('$__unixEpochFrom()').join(String(seconds(ctx.from)))
    .split('$__unixEpochTo()').join(String(seconds(ctx.to)));
  return out.replace(/\$([_a-zA-Z0-9]+)\(([^)]*)\)/g, (m, name: string, rawArgs: string, at: number, whole: string) => {
    const args = rawArgs.split(',').map((a) => a.trim());
    // an old-style `$__timeGroup(…),` in a select list gets the alias, as Grafana does
    if (name === '__timeGroup' && whole[at + m.length] === ',') return macro('__timeGroupAlias', args, ctx);
    return macro(name, args, ctx);
  });
}
