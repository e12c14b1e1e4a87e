/**
 * Why a span converter refused its input. Converters are pure and never half-produce a batch: they
 * throw this before returning anything.
 */
export type SpanErrorCode = 'invalid_process' | 'mixed_streams' | 'block_before_checkpoint' | 'invalid_checkpoint';

export class SpanError extends Error {
  override readonly name = 'SpanError';
  constructor(
    readonly code: SpanErrorCode,
    message: string,
  ) {
    super(message);
  }
}
