/**
 * The platform runtime interface: what `src/index.ts` needs from `platform/<node|browser>/runtime.ts`.
 * Both platforms' runtime modules export these names (the browser bundle swaps the Node modules for the
 * browser ones), so index.ts stays the same on both. The Node runtime checks itself against this type.
 *
 * @example
 * // platform/browser/runtime.ts
 * export const recorder = new Recorder({ clock, thread: 'main', spanIdBase: 0 });
 * export function init(o: RuntimeInitOptions): void { … }   // resolveSampling(o.sampling) → the worker's Sender
 */
import type { Properties } from '@sirius/transit';
import type { Recorder } from './recorder.js';
import type { SamplingOptions } from './sampling-settings.js';

/** What `init()` passes to the platform (the public `InitOptions`). */
export interface RuntimeInitOptions {
  url?: string;
  exe?: string;
  properties?: Properties;
  maxBufferBytes?: number;
  threadName?: string;
  apiKey?: string;
  shutdownTimeoutMs?: number;
  /** tail sampling of cpu streams; `false` sends every block; resolve with `resolveSampling` and hand the result to the `Sender` */
  sampling?: SamplingOptions | false;
  /** Node: event loop, heap, CPU and GC every second (default true); browsers: heap and their own signals */
  runtimeHealth?: boolean;
}

/** The module `platform/<name>/runtime.ts` satisfies this. */
export interface PlatformRuntime {
  /** this thread's recorder (events before `init()` wait in its buffers) */
  readonly recorder: Recorder;
  init(options: RuntimeInitOptions): void;
  /** hands buffers over and waits until stored, at most `timeoutMs` */
  flush(timeoutMs: number): Promise<boolean>;
  shutdown(timeoutMs: number): Promise<boolean>;
  configuredShutdownTimeoutMs(): number;
}

/** The module `platform/<name>/async-context.ts` satisfies this: the async span current where it is called. */
export interface PlatformAsyncContext {
  currentSpan(): number;
  withSpan<T>(id: number, fn: () => T): T;
}
