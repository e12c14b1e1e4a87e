/**
 * Every `sirius` subcommand, in the order `sirius --help` lists them. Each entry holds what the top-level
 * help needs (name, summary) and a loader: a command's module, and everything it imports (DuckDB, PGlite,
 * Arrow…), is loaded only when that command runs, so `sirius --help` and `sirius query` start fast.
 */
import type { Command } from './command.js';

export interface CommandEntry {
  name: string;
  /** one line for `sirius --help` */
  summary: string;
  load(): Promise<Command>;
}

export const commands: readonly CommandEntry[] = [
  {
    name: 'serve',
    summary: 'run the server (ingestion, daemon, analytics, web) until interrupted',
    load: async () => (await import('./serve-command.js')).serveCommand,
  },
  {
    name: 'query',
    summary: 'run SQL over a time range on a Sirius server and print the result',
    load: async () => (await import('./query-command.js')).queryCommand,
  },
  {
    name: 'perfetto',
    summary: "download a process's CPU trace over a time range as a Perfetto trace file",
    load: async () => (await import('./perfetto-command.js')).perfettoCommand,
  },
  {
    name: 'admin',
    summary: 'lakehouse maintenance and API keys: partitions, expiry, keys create|list|revoke',
    load: async () => (await import('./admin-command.js')).adminCommand,
  },
];
