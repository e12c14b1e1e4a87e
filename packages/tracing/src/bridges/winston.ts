/**
 * A winston transport that records every entry as a Sirius log: npm, syslog and cli level names → Sirius
 * levels (emerg/alert/crit/fatal → 1, error → 2, warn/warning → 3, info/notice/http/help/data → 4,
 * verbose/debug → 5, silly/trace → 6, others → 4), `message` → message, every other field (metadata,
 * `defaultMeta`, a format's fields) → properties, the option `target` (default `winston`) → target.
 *
 * Needs `winston` (and its `winston-transport`) installed; call `init()` from `@sirius/tracing` too.
 *
 * @example
 * import winston from 'winston';
 * import { SiriusTransport } from '@sirius/tracing/winston';
 * const log = winston.createLogger({ level: 'debug', transports: [new SiriusTransport()] });
 * log.warn('disk almost full', { free_mb: 120 });
 */
import TransportStream from 'winston-transport';
import { recordLog, type Level } from './record.js';
import { toProperties } from './properties.js';

export interface SiriusTransportOptions extends TransportStream.TransportStreamOptions {
  /** default `winston` */
  target?: string;
}

const LEVELS: Record<string, Level> = {
  emerg: 1, alert: 1, crit: 1, fatal: 1,
  error: 2,
  warn: 3, warning: 3,
  info: 4, notice: 4, http: 4, help: 4, data: 4, prompt: 4, input: 4,
  verbose: 5, debug: 5,
  silly: 6, trace: 6,
};
const LEVEL = Symbol.for('level');
const SKIP = new Set(['level', 'message']);

export function winstonLevel(name: unknown): Level {
  return (typeof name === 'string' ? LEVELS[name] : undefined) ?? 4;
}

export class SiriusTransport extends TransportStream {
  private readonly target: string;

  constructor(options: SiriusTransportOptions = {}) {
    super(options);
    this.target = options.target ?? 'winston';
  }

  override log(info: Record<string | symbol, unknown>, next: () => void): void {
    // the symbol holds the level before colorize() or other formats decorate `info.level`
    const level = winstonLevel(info[LEVEL] ?? info.level);
    const m = info.message;
    const msg = typeof m === 'string' ? m : m === undefined ? '' : typeof m === 'object' ? JSON.stringify(m) : String(m);
    recordLog(level, this.target, msg, toProperties(info as Record<string, unknown>, SKIP));
    this.emit('logged', info); // what winston's own transports do: callers may wait for it
    next();
  }
}

export default SiriusTransport;
