/**
 * @sirius/transit — the binary block format shared by instrumented processes (encode) and the server
 * (decode). Pure functions over bytes: no I/O, no compression library, runs in Node and browsers.
 * The format itself is specified in docs/transit.md.
 */
export * from './model.js';
export { TRANSIT_VERSION, BLOCK_MAGIC, ENVELOPE_HEADER_BYTES, encodeBlock, decodeBlockHeader, decodeBlock, decompressBlock } from './envelope.js';
export type { BlockHeader } from './envelope.js';
export { noCompression } from './codecs.js';
export { lz4SectionsCodec, packedDataSection, dataSectionOffset, joinSections } from './sections-codec.js';
export { BlockEncoder } from './block-encoder.js';
export { decodePayload } from './decode-payload.js';
export { forEachEvent } from './payload-walker.js';
export type { BlockTables, PayloadVisitor } from './payload-walker.js';
export { decodeColumns, decodeLogsWithoutData, gatherMessages } from './decode-columns.js';
export type { TransitColumns, PropertyColumns, LogColumns, MetricColumns, IntMetricColumns, FloatMetricColumns, ThreadSpanColumns, AsyncSpanColumns } from './decode-columns.js';
export { validateProcessInfo, validateStreamInfo, METADATA_LIMITS } from './validate.js';
export { DEFAULT_LIMITS } from './limits.js';
