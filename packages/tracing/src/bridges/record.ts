/**
 * What the bridges need beyond the public API: a log at a level chosen at run time, and async spans whose
 * parent comes from somewhere else than this library's async context (an OpenTelemetry span's parent).
 * Same recorder, same cost as the public calls.
 */
import type { Properties } from '@sirius/transit';
import { BEGIN_ASYNC, END_ASYNC } from '../core/records.js';
import { recorder } from '../platform/node/runtime.js';

/** Sirius log levels: 1 fatal, 2 error, 3 warn, 4 info, 5 debug, 6 trace. */
export type Level = 1 | 2 | 3 | 4 | 5 | 6;

export function recordLog(level: Level, target: string, msg: string, properties: Properties | null): void {
  recorder.logEvent(level, recorder.interner.log(target), msg, properties);
}

export interface OpenAsyncSpan {
  readonly id: number;
  readonly parent: number;
  readonly desc: number;
}

export function beginAsync(name: string, target: string, parent: number): OpenAsyncSpan {
  const desc = recorder.interner.span(name, target, '', 0);
  const id = recorder.newSpanId();
  recorder.asyncSpan(BEGIN_ASYNC, desc, id, parent);
  return { id, parent, desc };
}

export function endAsync(s: OpenAsyncSpan): void {
  recorder.asyncSpan(END_ASYNC, s.desc, s.id, s.parent);
}
