/**
 * The `sirius` command line: `sirius <command> [options]`. Usage mistakes exit with code 2, failures with 1.
 *
 * @example
 *   node --import tsx packages/server/src/cli/main.ts serve --http-port 9000
 */
import { pathToFileURL } from 'node:url';
import { UsageError } from './command.js';
import { ConfigError } from '../config.js';
import { DatabaseInUseError } from '../lake/pglite-dir-lock.js';
import { commands } from './commands.js';

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
  const command = commands.find((c) => c.name === name);
  try {
    if (!command) throw new UsageError(name.startsWith('-') ? `unknown option "${name}"` : `unknown command "${name}"`);
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`sirius: ${err.message}\nRun \`sirius ${command ? `${command.name} ` : ''}--help\` for usage.\n`);
      return 2;
    }
    // system errors (port in use, unreachable database…) and the lake's own refusals (a bad setting, a data
    // dir in use) speak for themselves; anything else may be a bug, and its stack helps
    const speaks = err instanceof ConfigError || err instanceof DatabaseInUseError || (err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string');
    process.stderr.write(`sirius: ${err instanceof Error ? (speaks ? err.message : (err.stack ?? err.message)) : String(err)}\n`);
    return 1;
  }
}

// run when executed as a script, not when imported by a test
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
