/**
 * Checks a block envelope completely before anything is stored: header, codec, decompression within the
 * declared size, every event of the payload (the count must match the header's `nb_objects`), and every log
 * message as UTF-8, each on its own, and what its property maps spell out against the block's size
 * (block-expansion.ts). A block that passes here can always be decoded later by the lakehouse, within memory
 * its size bounds, and its messages can go into Parquet as they are (DuckDB refuses strings that are not UTF-8).
 */
import { decodeBlockHeader, decompressBlock, forEachEvent, TransitError, type BlockMeta, type BlockTables, type DecodeLimits } from '@sirius/transit';
import { checkExpansion, PropertyText } from '../lake/block-expansion.js';
import { transitCodecs } from '../lake/lz4-codec.js';
import { MessageChecker } from '../lake/message-utf8.js';
import { HttpError } from './http-error.js';

const notUtf8 = () => new TransitError('corrupt', 'a log message is not valid UTF-8');

export function validateBlock(envelope: Uint8Array, limits: DecodeLimits): BlockMeta {
  try {
    const header = decodeBlockHeader(envelope, limits);
    const payload = decompressBlock(header, transitCodecs);
    // walking the events checks every byte of every event; the messages are the visitor's to check
    const messages = new MessageChecker(payload);
    let text!: PropertyText;
    const visitor = {
      tables(tables: BlockTables) {
        text = new PropertyText(tables);
      },
      log(_t: number, _level: number, _target: number, msgStart: number, msgEnd: number, props: Uint32Array, propCount: number) {
        if (!messages.add(msgStart, msgEnd)) throw notUtf8();
        text.add(props, propCount);
      },
      intMetric(_t: number, _m: number, _v: bigint, props: Uint32Array, propCount: number) {
        text.add(props, propCount);
      },
      floatMetric(_t: number, _m: number, _v: number, props: Uint32Array, propCount: number) {
        text.add(props, propCount);
      },
      threadSpan() {},
      asyncSpan() {},
    };
    forEachEvent(payload, visitor, limits, header.meta.nb_objects, header.version);
    if (!messages.finish()) throw notUtf8();
    checkExpansion(text.bytes, envelope.byteLength);
    // blocks.nb_objects is a PostgreSQL integer; the event limit keeps it far below, this keeps it so if the limit grows
    if (header.meta.nb_objects > 0x7fffffff) throw new TransitError('limit_exceeded', 'nb_objects: past a 32-bit signed integer');
    return header.meta;
  } catch (err) {
    if (err instanceof TransitError) throw new HttpError(400, `invalid block (${err.code}): ${err.message}`);
    throw err;
  }
}
