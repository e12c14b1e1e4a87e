import type { DecodeLimits } from './model.js';

/** DecodeLimits with every field present. */
export interface ResolvedLimits {
  maxPayloadBytes: number;
  maxEvents: number;
  maxStringBytes: number;
}

export const DEFAULT_LIMITS: ResolvedLimits = {
  maxPayloadBytes: 64 * 1024 * 1024,
  maxEvents: 4 * 1024 * 1024,
  maxStringBytes: 1024 * 1024,
};

/** Fills in defaults; a limit that is not a non-negative number falls back to its default. */
export function resolveLimits(limits?: DecodeLimits): ResolvedLimits {
  if (!limits) return DEFAULT_LIMITS;
  return {
    maxPayloadBytes: pick(limits.maxPayloadBytes, DEFAULT_LIMITS.maxPayloadBytes),
    maxEvents: pick(limits.maxEvents, DEFAULT_LIMITS.maxEvents),
    maxStringBytes: pick(limits.maxStringBytes, DEFAULT_LIMITS.maxStringBytes),
  };
}

function pick(v: number | undefined, fallback: number): number {
  return typeof v === 'number' && v >= 0 ? v : fallback;
}
