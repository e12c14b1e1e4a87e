/**
 * A `sirius` subcommand. `main.ts` finds commands in the registry (`commands.ts`), so adding one is a new
 * file plus one line there.
 */
export interface Command {
  name: string;
  /** one line for `sirius --help` */
  summary: string;
  /** the full text of `sirius <name> --help` */
  help(): string;
  /** runs with the arguments after the command name; resolves to the process exit code */
  run(args: string[]): Promise<number>;
}

/** A usage mistake: printed with a hint to `--help`, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
