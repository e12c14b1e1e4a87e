/**
 * `sirius perfetto <process_id>`: downloads one process's CPU trace over a time range from a Sirius server
 * (`GET /api/perfetto/:process_id`) into a Perfetto trace file. The server streams the trace as it decodes
 * it; the file is written as the bytes arrive, under a temporary name renamed at the end, so a failed or
 * interrupted download leaves no half-written trace behind.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { CLIENT_OPTIONS, progressLine, serverTarget, timeRange, write, type ClientCommandIo } from './server-client.js';
import { UsageError, type Command } from './command.js';
import { parseCommandArgs } from './parse.js';

const OPTIONS = { ...CLIENT_OPTIONS, output: { type: 'string', short: 'o' } } as const;

export type PerfettoCommandIo = ClientCommandIo;

export function createPerfettoCommand(io: PerfettoCommandIo = { stdout: process.stdout, stderr: process.stderr }): Command {
  return {
    name: 'perfetto',
    summary: "download a process's CPU trace over a time range as a Perfetto trace file",
    help: () => `Usage: sirius perfetto <process_id> [options]

Writes the thread and async spans of one process over the time range [begin, end) as a Perfetto trace
(open it at https://ui.perfetto.dev or with trace_processor). The server streams the trace while it
decodes the range, so long ranges start downloading at once and use bounded memory on both sides.

Options:
  -b, --begin <time>    start of the range: ISO-8601 (2024-05-01T12:00:00Z) or a duration back from now
                        such as 15m, 1h, 7d (default 1h)
  -e, --end <time>      end of the range: ISO-8601 or now (default now)
  -o, --output <file>   the trace file to write (default <process_id>.pftrace); - writes to stdout.
                        The file appears only once the whole trace has arrived
      --url <url>       server (default $SIRIUS_URL, else http://127.0.0.1:9000)
      --api-key <key>   one of the server's SIRIUS_QUERY_KEYS, sent as a bearer token (default $SIRIUS_API_KEY)
      --progress        show the bytes received on stderr even when it is not a terminal
  -h, --help            show this help

Example:
  sirius perfetto 3f2c…-…  --begin 2024-05-01T12:00:00Z --end 2024-05-01T12:10:00Z -o game.pftrace
`,
    async run(args) {
      const { values, positionals } = parseCommandArgs(args, OPTIONS, true);
      if (values.help) {
        io.stdout.write(this.help());
        return 0;
      }
      if (positionals.length !== 1) throw new UsageError('give exactly one process id: sirius perfetto <process_id> [-o trace.pftrace]');
      const processId = positionals[0]!;
      const { begin, end } = timeRange(values);
      const { base, apiKey } = serverTarget(values);
      const output = values.output ?? `${processId}.pftrace`;
      const fail = (msg: string): number => {
        io.stderr.write(`sirius perfetto: ${msg}\n`);
        return 1;
      };

      const headers: Record<string, string> = {};
      if (apiKey) headers.authorization = `Bearer ${apiKey}`;
      const query = new URLSearchParams({ begin, end });
      let res: Response;
      try {
        res = await fetch(`${base}/api/perfetto/${encodeURIComponent(processId)}?${query}`, { headers });
      } catch (err) {
        const cause = (err as { cause?: { message?: string } }).cause?.message;
        return fail(`cannot reach the Sirius server at ${base}: ${(err as Error).message}${cause ? ` (${cause})` : ''}`);
      }
      if (!res.ok) {
        const reason = await errorText(res);
        if (res.status === 401) return fail(`${base} wants an API key (${reason}): pass --api-key <key> or set SIRIUS_API_KEY`);
        return fail(`${reason} (HTTP ${res.status})`);
      }
      if (res.body === null) return fail(`${base} answered without a body`);

      const toStdout = output === '-';
      const partial = `${output}.partial`;
      const out = toStdout ? io.stdout : createWriteStream(partial);
      let bytes = 0;
      const stopProgress = progressLine(io, values.progress, (s) => `received ${formatBytes(bytes)} in ${s.toFixed(0)} s`);
      try {
        const reader = res.body.getReader();
        for (let c = await reader.read(); !c.done; c = await reader.read()) {
          bytes += c.value.length;
          await write(out, c.value);
        }
      } catch (err) {
        stopProgress();
        if (!toStdout) {
          await closeStream(out as ReturnType<typeof createWriteStream>).catch(() => undefined);
          await rm(partial, { force: true });
        }
        const cause = (err as { cause?: { message?: string } }).cause?.message;
        return fail(`the export broke off after ${formatBytes(bytes)}: ${(err as Error).message}${cause ? ` (${cause})` : ''}; nothing was written${toStdout ? ' completely' : ''}`);
      }
      stopProgress();
      if (!toStdout) {
        await closeStream(out as ReturnType<typeof createWriteStream>);
        await rename(partial, output);
        io.stderr.write(`wrote ${formatBytes(bytes)} to ${output}\n`);
      }
      return 0;
    },
  };
}

export const perfettoCommand: Command = createPerfettoCommand();

async function errorText(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const j = JSON.parse(text) as { error?: unknown };
    if (typeof j.error === 'string') return j.error;
  } catch {
    // not JSON: the text itself
  }
  return text.trim() || res.statusText || 'the server refused the export';
}

function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}


function closeStream(s: ReturnType<typeof createWriteStream>): Promise<void> {
  return new Promise((resolve, reject) => s.end((err?: Error | null) => (err ? reject(err) : resolve())));
}
