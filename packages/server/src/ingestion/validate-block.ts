/**
 * Checks a block envelope completely before anything is stored: header, codec, decompression within the
 * declared size, and every event of the payload (the count must match the header's `nb_objects`).
 * A block that passes here can always be decoded later by the lakehouse.
 */
import { decodeBlockHeader, decompressBlock, forEachEvent, TransitError, type BlockMeta, type DecodeLimits } from '@sirius/transit';
import { transitCodecs } from '../lake/lz4-codec.js';
import { HttpError } from './http-error.js';

/** walking with no-op callbacks still checks every byte of every event */
const IGNORE = { log() {}, intMetric() {}, floatMetric() {}, threadSpan() {}, asyncSpan() {} };

export function validateBlock(envelope: Uint8Array, limits: DecodeLimits): BlockMeta {
  try {
    const header = decodeBlockHeader(envelope, limits);
    const payload = decompressBlock(header, transitCodecs);
    forEachEvent(payload, IGNORE, limits, header.meta.nb_objects, header.version);
    return header.meta;
  } catch (err) {
    if (err instanceof TransitError) throw new HttpError(400, `invalid block (${err.code}): ${err.message}`);
    throw err;
  }
}
