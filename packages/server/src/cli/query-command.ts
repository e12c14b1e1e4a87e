/**
 * `sirius query "<sql>"`: runs SQL on a Sirius server through `@sirius/client` and prints the result as an
 * aligned table, CSV, JSON (an array of row objects; integers past 2^53 as strings) or an Arrow IPC stream.
 * It asks the server for JSON (or for the Arrow stream, passed through), so it loads no Arrow library.
 * Queries slower than a second show a progress line on stderr (when it is a terminal, or with --progress).
 */
// only the time-bound parser: the client's main entry loads apache-arrow, which the CLI does not need
import { CLIENT_OPTIONS, progressLine, serverTarget, timeRange, write, type ClientCommandIo } from './server-client.js';
import { UsageError, type Command } from './command.js';
import { parseCommandArgs } from './parse.js';
import { postQuery, QueryRefused, Unreachable, type JsonAnswer } from './query-http.js';
import { toAligned, toCsv } from './query-render.js';

const FORMATS = ['table', 'csv', 'json', 'arrow'] as const;
type Format = (typeof FORMATS)[number];

const OPTIONS = { ...CLIENT_OPTIONS, format: { type: 'string', short: 'f' } } as const;

export type QueryCommandIo = ClientCommandIo;

export function createQueryCommand(io: QueryCommandIo = { stdout: process.stdout, stderr: process.stderr }): Command {
  return {
    name: 'query',
    summary: 'run SQL over a time range on a Sirius server and print the result',
    help: () => `Usage: sirius query "<sql>" [options]

Runs one SELECT over the time range [begin, end) on a Sirius server.

Options:
  -b, --begin <time>    start of the range: ISO-8601 (2024-05-01T12:00:00Z) or a duration back from now
                        such as 15m, 1h, 7d (default 1h)
  -e, --end <time>      end of the range: ISO-8601 or now (default now)
  -f, --format <fmt>    table (default), csv, json (array of row objects) or arrow (IPC stream to stdout)
      --url <url>       server (default $SIRIUS_URL, else http://127.0.0.1:9000)
      --api-key <key>   one of the server's SIRIUS_QUERY_KEYS, sent as a bearer token (default $SIRIUS_API_KEY)
      --progress        show elapsed time on stderr even when it is not a terminal
  -h, --help            show this help

Example:
  sirius query "SELECT level, count(*) AS n FROM log_entries GROUP BY level ORDER BY level" --begin 1h
`,
    async run(args) {
      const { values, positionals } = parseCommandArgs(args, OPTIONS, true);
      if (values.help) {
        io.stdout.write(this.help());
        return 0;
      }
      if (positionals.length !== 1) throw new UsageError('give exactly one SQL query, quoted: sirius query "SELECT …"');
      const sql = positionals[0]!;
      const format = (values.format ?? 'table') as Format;
      if (!FORMATS.includes(format)) throw new UsageError(`unknown format "${values.format}" (want ${FORMATS.join(', ')})`);
      const { begin, end } = timeRange(values);
      const { base: url, apiKey } = serverTarget(values);
      const request = { sql, begin, end };
      const stopProgress = progressLine(io, values.progress, (s) => `querying… ${s.toFixed(1)} s`);
      let output: string | Uint8Array;
      try {
        output = format === 'arrow' ? await postQuery(url, request, 'arrow', apiKey) : render(await postQuery(url, request, 'json', apiKey), format);
      } catch (err) {
        stopProgress();
        if (err instanceof QueryRefused && err.status === 401) {
          // the server was started with SIRIUS_QUERY_KEYS: say how to give one here
          io.stderr.write(`sirius query: ${url} wants an API key (${err.message}): pass --api-key <key> or set SIRIUS_API_KEY\n`);
          return 1;
        }
        if (err instanceof QueryRefused) {
          io.stderr.write(`sirius query: ${err.message}\n${caret(sql, err.position)}`);
          return 1;
        }
        if (err instanceof Unreachable) {
          io.stderr.write(`sirius query: ${err.message}\n`);
          return 1;
        }
        throw err;
      }
      stopProgress();
      await write(io.stdout, output);
      return 0;
    },
  };
}

export const queryCommand: Command = createQueryCommand();

function render(answer: JsonAnswer, format: Exclude<Format, 'arrow'>): string {
  if (format === 'json') return `${answer.rowsText}\n`;
  return format === 'csv' ? toCsv(answer) : toAligned(answer);
}

/** the SQL line holding the error with a caret under it */
function caret(sql: string, position: number | undefined): string {
  if (position === undefined || position < 1) return '';
  const offset = Math.min(position - 1, sql.length);
  const lineStart = sql.lastIndexOf('\n', offset - 1) + 1;
  const lineEnd = sql.indexOf('\n', offset);
  const line = sql.slice(lineStart, lineEnd < 0 ? undefined : lineEnd);
  return `  ${line}\n  ${' '.repeat(offset - lineStart)}^\n`;
}

