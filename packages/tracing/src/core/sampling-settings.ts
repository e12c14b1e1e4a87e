/**
 * Tail-sampling settings: the public `init({ sampling })` options, their validation, and how a custom policy
 * crosses into the sender (a worker: functions cannot be posted, so the policy travels as source text and is
 * rebuilt there — it must be self-contained, reading only its arguments).
 */
import type { SamplingPolicy } from './sampling-policy.js';

/** `init({ sampling: { … } })`; every field optional. */
export interface SamplingOptions {
  /** how long a cpu block waits for the policy's decision after its last event, ms (default 3000) */
  windowMs?: number;
  /** a frame longer than this is slow (default 1.5 × 1000/60 = 25 ms) */
  frameBudgetMs?: number;
  /** frames kept before a slow frame, an error or a `keepTrace` (default 2) */
  framesBefore?: number;
  /** frames kept after it (default 2) */
  framesAfter?: number;
  /** fraction of other blocks kept at random (default 0.01) */
  baseline?: number;
  /** frames per cpu block once frames are recorded (default 1) */
  framesPerBlock?: number;
  /** bytes of raw records the window may hold (16 per thread-span event); past it the oldest are decided early (default min(8 MiB, maxBufferBytes / 4)) */
  maxWindowBytes?: number;
  /** replaces the default policy; runs in the sender, so it may only use its arguments (no closures, no imports) */
  policy?: SamplingPolicy;
  /** JSON-serializable values handed to the policy as `context.settings.params` */
  params?: Record<string, unknown>;
}

/** Resolved settings, JSON-serializable (posted to the sender). */
export interface SamplingSettings {
  windowMs: number;
  frameBudgetMs: number;
  framesBefore: number;
  framesAfter: number;
  baseline: number;
  framesPerBlock: number;
  /** undefined: the sender derives it from the memory bound */
  maxWindowBytes: number | undefined;
  params: Record<string, unknown>;
  /** a custom policy's source text; undefined for the default policy */
  policySource: string | undefined;
}

export const DEFAULT_SAMPLING: Readonly<Omit<SamplingSettings, 'params' | 'policySource' | 'maxWindowBytes'>> = {
  windowMs: 3000,
  frameBudgetMs: 1.5 * 1000 / 60,
  framesBefore: 2,
  framesAfter: 2,
  baseline: 0.01,
  framesPerBlock: 1,
};

function check(name: string, value: number, ok: boolean): number {
  if (typeof value !== 'number' || !ok) throw new RangeError(`sirius tracing: sampling.${name} is out of range: ${String(value)}`);
  return value;
}

/**
 * Validates `init({ sampling })`: `false` turns sampling off, anything else (default `{}`) turns it on.
 * @example resolveSampling({ frameBudgetMs: 33 }) // { windowMs: 3000, frameBudgetMs: 33, … }
 */
export function resolveSampling(o: SamplingOptions | boolean | undefined): SamplingSettings | false {
  if (o === false) return false;
  const v = o === undefined || o === true ? {} : o;
  if (typeof v !== 'object' || v === null) throw new TypeError('sirius tracing: sampling must be false or an object');
  const d = DEFAULT_SAMPLING;
  const int = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;
  const s: SamplingSettings = {
    windowMs: check('windowMs', v.windowMs ?? d.windowMs, (v.windowMs ?? d.windowMs) > 0 && (v.windowMs ?? d.windowMs) <= 600_000),
    frameBudgetMs: check('frameBudgetMs', v.frameBudgetMs ?? d.frameBudgetMs, (v.frameBudgetMs ?? d.frameBudgetMs) >= 0),
    framesBefore: check('framesBefore', v.framesBefore ?? d.framesBefore, int(v.framesBefore ?? d.framesBefore)),
    framesAfter: check('framesAfter', v.framesAfter ?? d.framesAfter, int(v.framesAfter ?? d.framesAfter)),
    baseline: check('baseline', v.baseline ?? d.baseline, (v.baseline ?? d.baseline) >= 0 && (v.baseline ?? d.baseline) <= 1),
    framesPerBlock: check('framesPerBlock', v.framesPerBlock ?? d.framesPerBlock, int(v.framesPerBlock ?? d.framesPerBlock) && (v.framesPerBlock ?? 1) >= 1),
    maxWindowBytes: v.maxWindowBytes === undefined ? undefined : check('maxWindowBytes', v.maxWindowBytes, v.maxWindowBytes > 0),
    params: v.params === undefined ? {} : (JSON.parse(JSON.stringify(v.params)) as Record<string, unknown>),
    policySource: undefined,
  };
  if (v.policy !== undefined) {
    if (typeof v.policy !== 'function') throw new TypeError('sirius tracing: sampling.policy must be a function');
    s.policySource = String(v.policy);
    compilePolicy(s.policySource); // a clear error now rather than in the sender
  }
  return s;
}

/**
 * Rebuilds a policy from its source text (a function expression, an arrow function, or a method such as
 * `policy(block, ctx) { … }`).
 */
export function compilePolicy(source: string): SamplingPolicy {
  const attempts = [`return (${source});`, `return Object.values({ ${source} })[0];`];
  for (const body of attempts) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the user's own function, moved into the sender worker
      const fn = new Function(body)() as unknown;
      if (typeof fn === 'function') return fn as SamplingPolicy;
    } catch {
      // try the next shape
    }
  }
  throw new TypeError('sirius tracing: sampling.policy could not be rebuilt from its source; pass a plain function that only reads its arguments');
}
