import { TransitError } from './model.js';

/** Ids travel as 16 raw bytes in the envelope; on the JSON side they are canonical UUID strings. */
const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_RE.test(value);
}

/** Writes `id` as 16 bytes at `offset`; throws TransitError('corrupt') naming `field` if it is not a UUID. */
export function writeUuid(out: Uint8Array, offset: number, id: string, field: string): void {
  if (!isUuid(id)) throw new TransitError('corrupt', `${field}: not a UUID`);
  const hex = id.replace(/-/g, '');
  for (let i = 0; i < 16; i++) out[offset + i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Reads 16 bytes as a lowercase canonical UUID string. */
export function readUuid(bytes: Uint8Array, offset: number): string {
  let s = '';
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
    s += HEX[bytes[offset + i]!];
  }
  return s;
}
