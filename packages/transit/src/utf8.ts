import { TransitError } from './model.js';

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes bytes[start, end) as UTF-8; invalid sequences are a TransitError('corrupt'), never U+FFFD. */
export function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  if (end - start < 32) {
    // Short ASCII strings are most targets and names: skip TextDecoder's call overhead.
    let s = '';
    for (let i = start; i < end; i++) {
      const c = bytes[i]!;
      if (c >= 0x80) return decodeSlow(bytes, start, end);
      s += String.fromCharCode(c);
    }
    return s;
  }
  return decodeSlow(bytes, start, end);
}

function decodeSlow(bytes: Uint8Array, start: number, end: number): string {
  try {
    return decoder.decode(bytes.subarray(start, end));
  } catch {
    throw new TransitError('corrupt', 'string is not valid UTF-8');
  }
}
