/**
 * A pino destination that records every line as a Sirius log: pino's level → Sirius level (fatal 60 → 1,
 * error 50 → 2, warn 40 → 3, info 30 → 4, debug 20 → 5, trace 10 → 6; custom levels to the nearest below),
 * `msg` → message, the logger's `name` → target (default `pino`), every other field (bindings of child
 * loggers, merged objects, serialized errors) → properties. `time`, `pid` and `hostname` are left out: the
 * process record already holds them and the event its own time.
 *
 * It runs on the calling thread (pino writes to it synchronously); call `init()` from `@sirius/tracing` too.
 *
 * @example
 * import pino from 'pino';
 * import { siriusPino } from '@sirius/tracing/pino';
 * const log = pino({ level: 'debug' }, siriusPino());
 * log.info({ user: 'ada' }, 'signed in');   // log_entries: level 4, msg 'signed in', properties {user: 'ada'}
 */
import { recordLog, type Level } from './record.js';
import { toProperties } from './properties.js';

export interface SiriusPinoOptions {
  /** target of lines whose logger has no `name`; default `pino` */
  target?: string;
}

/** what pino needs of a destination (`writable` lets `pino(siriusPino())` take it as one without options) */
export interface PinoDestination {
  readonly writable: true;
  write(line: string): void;
}

const SKIP = new Set(['level', 'msg', 'time', 'pid', 'hostname', 'name']);

export function pinoLevel(n: unknown): Level {
  if (typeof n !== 'number') return 4;
  return n >= 60 ? 1 : n >= 50 ? 2 : n >= 40 ? 3 : n >= 30 ? 4 : n >= 20 ? 5 : 6;
}

export function siriusPino(options: SiriusPinoOptions = {}): PinoDestination {
  const fallbackTarget = options.target ?? 'pino';
  return {
    writable: true,
    write(line: string): void {
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(line) as Record<string, unknown>;
      } catch {
        recordLog(4, fallbackTarget, line.trimEnd(), null); // not JSON (a custom formatter): keep the text
        return;
      }
      const msg = typeof o.msg === 'string' ? o.msg : o.msg === undefined ? '' : String(o.msg);
      const target = typeof o.name === 'string' ? o.name : fallbackTarget;
      recordLog(pinoLevel(o.level), target, msg, toProperties(o, SKIP));
    },
  };
}

export default siriusPino;
