/**
 * `captureConsole()`: `console.error/warn/info/log/debug/trace` also become Sirius logs (error → 2,
 * warn → 3, info and log → 4, debug → 5, trace → 6), formatted as `console` formats them
 * (`util.format`), target `console`. The console still prints, unless `{ print: false }`. Returns a function
 * that puts the console back.
 *
 * @example
 * import { init } from '@sirius/tracing';
 * import { captureConsole } from '@sirius/tracing/console';
 * init();
 * const release = captureConsole();
 * console.warn('cache miss for %s', key);   // printed, and a warn log in Sirius
 */
import { format } from 'node:util';
import { recordLog, type Level } from './record.js';

export interface CaptureConsoleOptions {
  /** default `console` */
  target?: string;
  /** keep printing as before (default true) */
  print?: boolean;
}

const METHODS = { error: 2, warn: 3, info: 4, log: 4, debug: 5, trace: 6 } as const satisfies Record<string, Level>;
type Method = keyof typeof METHODS;

let active: (() => void) | undefined;

export function captureConsole(options: CaptureConsoleOptions = {}): () => void {
  active?.(); // capturing twice would log every line twice
  const target = options.target ?? 'console';
  const print = options.print ?? true;
  const originals = new Map<Method, (...args: unknown[]) => void>();
  for (const name of Object.keys(METHODS) as Method[]) {
    const original = console[name] as (...args: unknown[]) => void;
    originals.set(name, original);
    const level = METHODS[name];
    console[name] = function (this: Console, ...args: unknown[]): void {
      recordLog(level, target, format(...args), null);
      if (print) original.apply(this, args);
    };
  }
  const release = (): void => {
    if (active !== release) return;
    active = undefined;
    for (const [name, original] of originals) console[name] = original;
  };
  active = release;
  return release;
}
