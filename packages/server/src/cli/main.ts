/**
 * The `sirius` command line: `sirius <command> [options]`. Usage mistakes exit with code 2, failures with 1.
 *
 * @example
 *   node --import tsx packages/server/src/cli/main.ts serve --http-port 9000
 */
import { pathToFileURL } from 'node:url';
import { UsageError } from './command.js';
import { commands } from './commands.js';

/**
 * Errors whose message is the whole story (a bad setting, a data dir in use, a port taken). Matched by name,
 * not class: importing their modules here would load the server for every command.
 */
const SPEAKING_ERRORS = new Set(['ConfigError', 'DatabaseInUseError', 'PortInUseError']);

function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return `Usage: sirius <command> [options]

Sirius: logs, metrics and CPU traces at high frequency, stored cheaply, queried with SQL.

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run \`sirius <command> --help\` for a command's options and environment variables.
`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp());
    return name === undefined ? 2 : 0;
  }
  const entry = commands.find((c) => c.name === name);
  try {
    if (!entry) throw new UsageError(name.startsWith('-') ? `unknown option "${name}"` : `unknown command "${name}"`);
    const command = await entry.load();
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`sirius: ${err.message}\nRun \`sirius ${entry ? `${entry.name} ` : ''}--help\` for usage.\n`);
      return 2;
    }
    // system errors (port in use, unreachable database…) and the lake's own refusals (a bad setting, a data
    // dir in use) speak for themselves; anything else may be a bug, and its stack helps
    const speaks = err instanceof Error && (SPEAKING_ERRORS.has(err.name) || typeof (err as NodeJS.ErrnoException).code === 'string');
    process.stderr.write(`sirius: ${err instanceof Error ? (speaks ? err.message : (err.stack ?? err.message)) : String(err)}\n`);
    return 1;
  }
}

// run when executed as a script, not when imported by a test
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
