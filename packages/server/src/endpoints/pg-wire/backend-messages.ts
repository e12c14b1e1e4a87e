/**
 * Backend (server → client) messages of the PostgreSQL v3 protocol, as byte buffers: a type byte, an
 * Int32 length that counts itself, then the body. Only what the gateway sends.
 *
 * @example
 *   socket.write(readyForQuery('I'));
 */
import type { PgType } from './pg-types.js';
import { writeLength, type DirectTextWriter } from './text-cells.js';

export type TransactionStatus = 'I' | 'T' | 'E';

function message(type: string, body: Buffer): Buffer {
  const head = Buffer.allocUnsafe(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

const cstr = (s: string) => Buffer.from(`${s.replace(/\u0000/g, '')}\u0000`, 'utf8');
const int32 = (n: number) => {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(n);
  return b;
};
const int16 = (n: number) => {
  const b = Buffer.allocUnsafe(2);
  b.writeInt16BE(n);
  return b;
};

export const authenticationOk = () => message('R', int32(0));
export const authenticationCleartextPassword = () => message('R', int32(3));
export const parameterStatus = (name: string, value: string) => message('S', Buffer.concat([cstr(name), cstr(value)]));
export const backendKeyData = (pid: number, secret: number) => message('K', Buffer.concat([int32(pid), int32(secret)]));
export const readyForQuery = (status: TransactionStatus) => message('Z', Buffer.from(status, 'latin1'));
export const parseComplete = () => message('1', Buffer.alloc(0));
export const bindComplete = () => message('2', Buffer.alloc(0));
export const closeComplete = () => message('3', Buffer.alloc(0));
export const noData = () => message('n', Buffer.alloc(0));
export const portalSuspended = () => message('s', Buffer.alloc(0));
export const emptyQueryResponse = () => message('I', Buffer.alloc(0));
export const commandComplete = (tag: string) => message('C', cstr(tag));
/** the single-byte SSL/GSS refusal: not framed */
export const sslRefused = () => Buffer.from('N', 'latin1');

export const parameterDescription = (oids: readonly number[]) =>
  message('t', Buffer.concat([int16(oids.length), ...oids.map((o) => int32(o))]));

export const negotiateProtocolVersion = (minor: number, unrecognized: readonly string[]) =>
  message('v', Buffer.concat([int32(minor), int32(unrecognized.length), ...unrecognized.map(cstr)]));

export interface FieldDescription {
  name: string;
  type: PgType;
  format: 'text' | 'binary';
}

export function rowDescription(fields: readonly FieldDescription[]): Buffer {
  const parts: Buffer[] = [int16(fields.length)];
  for (const f of fields) {
    const tail = Buffer.allocUnsafe(18);
    tail.writeInt32BE(0, 0); // table OID: not a table column
    tail.writeInt16BE(0, 4); // attribute number
    tail.writeInt32BE(f.type.oid, 6);
    tail.writeInt16BE(f.type.size, 10);
    tail.writeInt32BE(-1, 12); // type modifier
    tail.writeInt16BE(f.format === 'binary' ? 1 : 0, 16);
    parts.push(cstr(f.name), tail);
  }
  return message('T', Buffer.concat(parts));
}

export function dataRow(cells: readonly (Buffer | null)[]): Buffer {
  let size = 2;
  for (const c of cells) size += 4 + (c ? c.length : 0);
  const body = Buffer.allocUnsafe(size);
  body.writeInt16BE(cells.length, 0);
  let at = 2;
  for (const c of cells) {
    if (c === null) {
      body.writeInt32BE(-1, at);
      at += 4;
    } else {
      body.writeInt32BE(c.length, at);
      c.copy(body, at + 4);
      at += 4 + c.length;
    }
  }
  return message('D', body);
}

export interface ErrorFields {
  severity: 'ERROR' | 'FATAL' | 'WARNING' | 'NOTICE';
  /** SQLSTATE */
  code: string;
  message: string;
  /** 1-based character position in the query string */
  position?: number;
  detail?: string;
  hint?: string;
}

function fieldsBody(e: ErrorFields): Buffer {
  const parts: Buffer[] = [];
  const add = (k: string, v: string | undefined) => {
    if (v !== undefined) parts.push(Buffer.from(k, 'latin1'), cstr(v));
  };
  add('S', e.severity);
  add('V', e.severity);
  add('C', e.code);
  add('M', e.message);
  add('D', e.detail);
  add('H', e.hint);
  add('P', e.position === undefined ? undefined : String(e.position));
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

export const errorResponse = (e: ErrorFields) => message('E', fieldsBody(e));
export const noticeResponse = (e: ErrorFields) => message('N', fieldsBody(e));

/** CopyOutResponse: the overall format (0 text, 1 binary) and one format code per column */
export const copyOutResponse = (overall: 0 | 1, columnFormats: readonly number[]) => {
  const body = Buffer.allocUnsafe(3 + 2 * columnFormats.length);
  body.writeInt8(overall, 0);
  body.writeInt16BE(columnFormats.length, 1);
  columnFormats.forEach((f, i) => body.writeInt16BE(f, 3 + 2 * i));
  return message('H', body);
};
export const copyData = (data: Buffer) => message('d', data);
export const copyDone = () => message('c', Buffer.alloc(0));

const ROW_CHUNK = 256 * 1024;

/** what a DataRow needs of a column: its cell, and a direct writer when it has one (text-cells.ts) */
/** marks a cell its column's direct writer puts in place */
const DIRECT = 0;

export interface RowCellSource {
  cell(row: number): string | Uint8Array | null;
  direct?: DirectTextWriter;
}

/**
 * Row chunks the socket has finished writing, kept for the next ones: a result of a million rows would
 * otherwise allocate ~70 MB of fresh 256 KiB buffers, and that external memory drives V8 into a full
 * collection every few chunks. A chunk comes back through `giveBack` from the write's callback.
 */
export class ChunkPool {
  private readonly free: ArrayBuffer[] = [];
  private readonly issued = new WeakSet<ArrayBufferLike>();

  constructor(private readonly max = 8) {}

  get(): Buffer {
    const ab = this.free.pop();
    if (ab !== undefined) return Buffer.from(ab);
    const b = Buffer.allocUnsafeSlow(ROW_CHUNK);
    this.issued.add(b.buffer);
    return b;
  }

  /** whether `b` is (part of) a chunk this pool handed out, which `giveBack` takes after the socket wrote it */
  owns(b: Buffer): boolean {
    return this.issued.has(b.buffer);
  }

  giveBack(b: Buffer): void {
    if (this.free.length < this.max) this.free.push(b.buffer as ArrayBuffer);
  }
}

/** the cells of row `r`, one call site per column position (see `DataRowWriter.rows`) */
function writeCells(ws: readonly DirectTextWriter[], n: number, buf: Uint8Array, at: number, r: number): number {
  at = ws[0]!.write(buf, at, r);
  if (n === 1) return at;
  at = ws[1]!.write(buf, at, r);
  if (n === 2) return at;
  at = ws[2]!.write(buf, at, r);
  if (n === 3) return at;
  at = ws[3]!.write(buf, at, r);
  if (n === 4) return at;
  at = ws[4]!.write(buf, at, r);
  if (n === 5) return at;
  at = ws[5]!.write(buf, at, r);
  if (n === 6) return at;
  at = ws[6]!.write(buf, at, r);
  if (n === 7) return at;
  return ws[7]!.write(buf, at, r);
}

/**
 * DataRow messages written straight into large buffers: one allocation per chunk rather than several per
 * row (none once the pool has chunks), text cells encoded to UTF-8 in place. `take()` hands over what is
 * written so far.
 */
export class DataRowWriter {
  private buf: Buffer;
  private at = 0;
  private done: Buffer[] = [];
  private doneBytes = 0;
  private readonly cells: (string | Uint8Array | null | typeof DIRECT)[] = [];
  /** `rows()`'s per-batch room and writers, reused while the same batch is written */
  private plan: { encoders: readonly RowCellSource[]; from: number; to: number; rowBound: number; ws: DirectTextWriter[] } | undefined;

  constructor(private readonly pool = new ChunkPool(0)) {
    this.buf = pool.get();
  }

  /** bytes written and not yet taken */
  get size(): number {
    return this.doneBytes + this.at;
  }

  row(encoders: readonly RowCellSource[], r: number): void {
    const n = encoders.length;
    const cells = this.cells;
    let bound = 7;
    for (let c = 0; c < n; c++) {
      const e = encoders[c]!;
      if (e.direct !== undefined) {
        cells[c] = DIRECT;
        bound += e.direct.bound(r);
        continue;
      }
      const v = e.cell(r);
      cells[c] = v;
      bound += 4 + (v === null ? 0 : typeof v === 'string' ? v.length * 3 : v.length);
    }
    if (this.at + bound > this.buf.length) this.nextChunk(bound);
    const buf = this.buf;
    const start = this.at;
    buf[start] = 0x44; // 'D'
    buf.writeInt16BE(n, start + 5);
    let at = start + 7;
    for (let c = 0; c < n; c++) {
      const v = cells[c]!;
      if (v === DIRECT) {
        at = encoders[c]!.direct!.write(buf, at, r);
      } else if (v === null) {
        buf.writeInt32BE(-1, at);
        at += 4;
      } else if (typeof v === 'string') {
        // (no encoding argument: UTF-8 is the default, and naming it costs a lookup per call)
        const len = buf.write(v, at + 4);
        buf.writeInt32BE(len, at);
        at += 4 + len;
      } else {
        buf.set(v, at + 4);
        buf.writeInt32BE(v.length, at);
        at += 4 + v.length;
      }
    }
    buf.writeInt32BE(at - start - 1, start + 1);
    this.at = at;
  }

  /**
   * Rows [from, to), stopping once `limit` bytes wait to be taken; returns the row after the last written.
   * When every column has a direct writer, the room a row needs is worked out once for the rows (not per
   * row and column), and the cells are written with one call site per column position, which the JIT can
   * inline (a loop over the columns would make one call site see every writer).
   */
  rows(encoders: readonly RowCellSource[], from: number, to: number, limit: number): number {
    const n = encoders.length;
    if (n === 0 || n > 8 || !encoders.every((e) => e.direct !== undefined)) {
      for (let r = from; r < to; r++) {
        this.row(encoders, r);
        if (this.size >= limit) return r + 1;
      }
      return to;
    }
    let plan = this.plan;
    if (plan === undefined || plan.encoders !== encoders || plan.to !== to || plan.from > from) {
      const ws = encoders.map((e) => e.direct!);
      let rowBound = 7;
      for (const w of ws) rowBound += w.maxBound(from, to);
      plan = this.plan = { encoders, from, to, rowBound, ws };
    }
    const { rowBound, ws } = plan;
    let buf = this.buf;
    let at = this.at;
    for (let r = from; r < to; ) {
      if (at + rowBound > buf.length) {
        this.at = at;
        this.nextChunk(rowBound);
        buf = this.buf;
        at = this.at;
      }
      const start = at;
      buf[start] = 0x44; // 'D'
      buf[start + 5] = 0;
      buf[start + 6] = n;
      at = writeCells(ws, n, buf, start + 7, r);
      writeLength(buf, start + 1, at - start - 1);
      r++;
      if (this.doneBytes + at >= limit) {
        this.at = at;
        return r;
      }
    }
    this.at = at;
    return to;
  }

  take(): Buffer[] {
    const out = this.done;
    if (this.at > 0) out.push(this.buf.subarray(0, this.at));
    this.done = [];
    this.doneBytes = 0;
    this.buf = this.pool.get();
    this.at = 0;
    return out;
  }

  private nextChunk(bound: number): void {
    if (this.at > 0) {
      this.done.push(this.buf.subarray(0, this.at));
      this.doneBytes += this.at;
    }
    this.buf = bound <= ROW_CHUNK ? this.pool.get() : Buffer.allocUnsafe(bound);
    this.at = 0;
  }
}
