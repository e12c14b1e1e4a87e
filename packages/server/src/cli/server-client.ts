/**
 * What the CLI's client commands (`sirius query`, `sirius perfetto`) share: the flags naming the server, the
 * key and the time range, their defaults from the environment, the time-range check, a progress line on
 * stderr, and writes that wait for the output to take the data.
 *
 * @example
 *   const { base, apiKey } = serverTarget(values);          // --url / SIRIUS_URL, --api-key / SIRIUS_API_KEY
 *   const { begin, end } = timeRange(values);               // checked: a UsageError names a bad time
 */
import { parseTimeArg, TimeArgError } from '@sirius/client/time-arg';
import { UsageError } from './command.js';

export const CLIENT_OPTIONS = {
  begin: { type: 'string', short: 'b' },
  end: { type: 'string', short: 'e' },
  url: { type: 'string' },
  'api-key': { type: 'string' },
  progress: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface ClientCommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export const DEFAULT_SERVER_URL = 'http://127.0.0.1:9000';

/** the server (no trailing slash) and the key to send, from the flags, else the environment */
export function serverTarget(values: { url?: string; 'api-key'?: string }): { base: string; apiKey: string | undefined } {
  return {
    base: (values.url ?? process.env.SIRIUS_URL ?? DEFAULT_SERVER_URL).replace(/\/+$/, ''),
    apiKey: values['api-key'] ?? process.env.SIRIUS_API_KEY,
  };
}

/** `--begin` (default 1h) and `--end` (default now), each checked before anything is sent */
export function timeRange(values: { begin?: string; end?: string }): { begin: string; end: string } {
  const begin = values.begin ?? '1h';
  const end = values.end ?? 'now';
  for (const t of [begin, end]) {
    try {
      parseTimeArg(t);
    } catch (err) {
      if (err instanceof TimeArgError) throw new UsageError(err.message);
      throw err;
    }
  }
  return { begin, end };
}

/**
 * Every second, `line()` rewritten in place on stderr (with `--progress` or on a terminal); the returned
 * function stops it and clears the line if one was shown.
 */
export function progressLine(io: ClientCommandIo, forced: boolean | undefined, line: (seconds: number) => string): () => void {
  if (!(forced === true || io.stderr.isTTY === true)) return () => {};
  const started = Date.now();
  let shown = false;
  const timer = setInterval(() => {
    shown = true;
    io.stderr.write(`\r${line((Date.now() - started) / 1000)}`);
  }, 1000);
  return () => {
    clearInterval(timer);
    if (shown) io.stderr.write('\r\x1b[K');
  };
}

/** resolves once the stream has taken `data` (backpressure), rejects on a write error */
export function write(out: NodeJS.WritableStream, data: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    out.write(data, (err) => (err ? reject(err) : resolve()));
  });
}
