/**
 * The server's own console output: one line per message, prefixed with the component. `quiet` silences
 * everything but errors (tests start many servers).
 */
export interface Log {
  info(msg: string): void;
  error(msg: string, err?: unknown): void;
}

export function createLog(component: string, quiet = false): Log {
  return {
    info(msg) {
      if (!quiet) console.log(`[sirius ${component}] ${msg}`);
    },
    error(msg, err) {
      const detail = err instanceof Error ? `: ${err.stack ?? err.message}` : err === undefined ? '' : `: ${String(err)}`;
      console.error(`[sirius ${component}] ${msg}${detail}`);
    },
  };
}
