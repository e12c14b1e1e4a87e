/**
 * Frontend (client → server) framing. The first packet of a connection has no type byte (an Int32
 * length then an Int32 code: SSLRequest, GSSENCRequest, CancelRequest or a StartupMessage); every later
 * message is a type byte plus an Int32 length. `FrameReader` collects socket chunks and yields whole
 * messages; `BodyReader` reads the fields inside one.
 *
 * @example
 *   reader.push(chunk);
 *   for (let m = reader.next(); m; m = reader.next()) handle(m);
 */

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    message: string,
    /** SQLSTATE */
    readonly sqlState = '08P01',
  ) {
    super(message);
  }
}

export interface FrontendMessage {
  /** the type byte; '' for the untyped first packets */
  type: string;
  body: Buffer;
}

/**
 * Chunks are kept as they arrive and each message is copied out once, so reading an n-byte message costs
 * O(n) however finely the socket splits it (joining everything received on every chunk was quadratic).
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private size = 0;
  /** true until the startup packet (and any SSL/GSS request before it) has been read */
  startup = true;

  /** when the limit applies, for the error message (e.g. ' before authentication') */
  private limitContext = '';

  constructor(private maxMessageBytes: number) {}

  /** the session lowers the limit until authentication, so an anonymous client cannot make the gateway buffer much */
  setLimit(maxMessageBytes: number, context = ''): void {
    this.maxMessageBytes = maxMessageBytes;
    this.limitContext = context;
  }

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  next(): FrontendMessage | undefined {
    const head = this.startup ? 4 : 5;
    if (this.size < head) return undefined;
    const header = this.peek(head);
    const type = this.startup ? '' : String.fromCharCode(header[0]!);
    const len = header.readInt32BE(this.startup ? 0 : 1);
    // checked as soon as the length arrives: a refused message is never buffered
    if (len < 4) throw new ProtocolError(`invalid message length ${len}`);
    if (len > this.maxMessageBytes) {
      throw new ProtocolError(`message of ${len} bytes exceeds the limit of ${this.maxMessageBytes} bytes${this.limitContext}`, '54000');
    }
    const total = (this.startup ? 0 : 1) + len;
    if (this.size < total) return undefined;
    return { type, body: this.take(total).subarray(head) };
  }

  /** the first n bytes (n ≤ 5), without consuming them */
  private peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) return first;
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    for (let i = 0; at < n; i++) at += this.chunks[i]!.copy(out, at, 0, n - at);
    return out;
  }

  /** removes the first n bytes into a buffer of their own (a copy: a small message must not pin a large chunk) */
  private take(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    let i = 0;
    while (at < n) {
      const c = this.chunks[i]!;
      const used = c.copy(out, at, 0, n - at);
      at += used;
      if (used === c.length) i++;
      else this.chunks[i] = c.subarray(used);
    }
    this.chunks.splice(0, i);
    this.size -= n;
    return out;
  }
}

export class BodyReader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}

  private need(n: number): void {
    if (this.at + n > this.buf.length) throw new ProtocolError('message too short for its fields');
  }
  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.at);
    this.at += 2;
    return v;
  }
  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }
  byte(): string {
    this.need(1);
    return String.fromCharCode(this.buf[this.at++]!);
  }
  cstring(): string {
    const end = this.buf.indexOf(0, this.at);
    if (end < 0) throw new ProtocolError('unterminated string in message');
    const s = this.buf.toString('utf8', this.at, end);
    this.at = end + 1;
    return s;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return b;
  }
  get done(): boolean {
    return this.at >= this.buf.length;
  }
}

export const SSL_REQUEST = 80877103;
export const GSSENC_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;
export const PROTOCOL_3 = 3;

export interface ParsedParse {
  name: string;
  sql: string;
  paramTypes: number[];
}

export function readParse(body: Buffer): ParsedParse {
  const r = new BodyReader(body);
  const name = r.cstring();
  const sql = r.cstring();
  const n = r.int16();
  const paramTypes: number[] = [];
  for (let i = 0; i < n; i++) paramTypes.push(r.int32() >>> 0);
  return { name, sql, paramTypes };
}

export interface ParsedBind {
  portal: string;
  statement: string;
  /** per parameter: 0 text, 1 binary (already expanded from the 0/1/n short forms) */
  paramFormats: number[];
  values: (Buffer | null)[];
  /** as sent: empty = all text, one = for every column, else per column */
  resultFormats: number[];
}

export function readBind(body: Buffer): ParsedBind {
  const r = new BodyReader(body);
  const portal = r.cstring();
  const statement = r.cstring();
  const nf = r.int16();
  const formats: number[] = [];
  for (let i = 0; i < nf; i++) formats.push(r.int16());
  const nv = r.int16();
  const values: (Buffer | null)[] = [];
  for (let i = 0; i < nv; i++) {
    const len = r.int32();
    values.push(len < 0 ? null : Buffer.from(r.bytes(len)));
  }
  const nr = r.int16();
  const resultFormats: number[] = [];
  for (let i = 0; i < nr; i++) resultFormats.push(r.int16());
  if (nf > 1 && nf !== nv) throw new ProtocolError(`bind message has ${nf} parameter formats but ${nv} parameters`);
  const paramFormats = values.map((_, i) => (nf === 0 ? 0 : nf === 1 ? formats[0]! : formats[i]!));
  return { portal, statement, paramFormats, values, resultFormats };
}
