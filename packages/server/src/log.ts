/**
 * The server's own console output: one line per message, prefixed with the component. `quiet` silences
 * everything but errors (tests start many servers). With self-telemetry on, each line is also recorded.
 */
import { logLine } from './self-telemetry.js';

export interface Log {
  info(msg: string): void;
  error(msg: string, err?: unknown): void;
}

export function createLog(component: string, quiet = false): Log {
  return {
    info(msg) {
      if (!quiet) console.log(`[sirius ${component}] ${msg}`);
      logLine('info', component, msg);
    },
    error(msg, err) {
      console.error(`[sirius ${component}] ${msg}${describe(err)}`);
      logLine('error', component, `${msg}${err instanceof Error ? `: ${err.message}` : err === undefined ? '' : `: ${String(err)}`}`);
    },
  };
}

/**
 * The error with its cause chain: a client sees only "the metadata database is unavailable", so the log is
 * where the host, port or errno behind it must show.
 */
function describe(err: unknown): string {
  if (err === undefined) return '';
  if (!(err instanceof Error)) return `: ${String(err)}`;
  let out = `: ${err.stack ?? err.message}`;
  const seen = new Set<unknown>([err]);
  for (let c: unknown = err.cause; c !== undefined && !seen.has(c) && seen.size < 8; c = (c as { cause?: unknown }).cause) {
    seen.add(c);
    out += `\n  caused by: ${c instanceof Error ? (c.stack ?? c.message) : String(c)}`;
  }
  return out;
}
