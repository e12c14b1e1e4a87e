/**
 * Every `sirius` subcommand, in the order `sirius --help` lists them.
 */
import type { Command } from './command.js';
import { serveCommand } from './serve-command.js';
import { queryCommand } from './query-command.js';
import { adminCommand } from './admin-command.js';

export const commands: readonly Command[] = [serveCommand, queryCommand, adminCommand];
