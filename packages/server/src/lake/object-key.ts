/**
 * Object keys are relative, slash-separated paths. Rejecting `..`, empty segments and absolute keys keeps a
 * key from escaping the store's root on the file store and keeps the three stores interchangeable.
 */
export function assertValidKey(key: string): void {
  if (key.length === 0 || key.length > 1024) throw new InvalidObjectKeyError(key, 'length must be 1..1024');
  if (key.startsWith('/') || key.endsWith('/')) throw new InvalidObjectKeyError(key, 'must not start or end with /');
  for (const seg of key.split('/')) {
    if (seg === '' || seg === '.' || seg === '..') throw new InvalidObjectKeyError(key, `bad segment "${seg}"`);
    if (seg.includes('\\') || seg.includes('\0')) throw new InvalidObjectKeyError(key, 'no backslash or NUL');
  }
}

export class InvalidObjectKeyError extends Error {
  override readonly name = 'InvalidObjectKeyError';
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`invalid object key ${JSON.stringify(key)}: ${reason}`);
  }
}
