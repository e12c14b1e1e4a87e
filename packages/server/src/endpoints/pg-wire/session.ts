/**
 * One client connection: the startup handshake, then the simple and extended query protocols. Messages
 * are handled strictly in arrival order (the engine is asynchronous, the protocol is not). Output is
 * buffered and written at ReadyForQuery, Flush, or when a result grows large, honouring socket
 * back-pressure so a huge result never piles up in memory.
 *
 * @example
 *   server.on('connection', (socket) => new PgSession(socket, opts));
 */
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import type { QueryEngine } from '../../analytics/query-engine.js';
import type { KeyGate, KeyVerdict } from '../../auth/key-gate.js';
import * as msg from './backend-messages.js';
import { endSocket } from './socket-ending.js';
import {
  BodyReader, CANCEL_REQUEST, FrameReader, GSSENC_REQUEST, PROTOCOL_3, ProtocolError, readBind, readParse, SSL_REQUEST,
  type FrontendMessage,
} from './frontend-reader.js';
import type { SessionActivity } from './catalog-tables.js';
import { copyWriter } from './copy-out.js';
import { CursorStore } from './cursors.js';
import { bindParameters, countParameters, decodeBinaryParameter, ParameterError } from './parameters.js';
import { PG_TYPES } from './pg-types.js';
import { resultFormats, type RowSource } from './row-source.js';
import type { RowStream } from './row-stream.js';
import { SessionSettings, SettingError, type TimeRangeText } from './session-settings.js';
import { codeTokens, SqlLexError, splitStatements } from './sql-lexer.js';
import { runStatement, StatementError, type Outcome, type SqlText, type StatementContext } from './statement-runner.js';
import type { ColumnEncoder } from './value-format.js';

export interface SessionOptions {
  engine: QueryEngine;
  defaultRange: TimeRangeText;
  /** which API keys pass (auth/key-gate.ts); no password is asked on an open side */
  keys: KeyGate;
  pid: number;
  secret: number;
  /** largest message once authenticated */
  maxMessageBytes: number;
  /** largest message before (startup packet, SSL/cancel requests, password) */
  maxPreAuthMessageBytes: number;
  /** startup and authentication must be done within this, else the connection is closed */
  authTimeoutMs: number;
  /** a CancelRequest arrived on this connection */
  onCancelRequest(pid: number, secret: number): void;
  /** every session of the gateway, for pg_stat_activity */
  sessions(): SessionActivity[];
  /** pg_cancel_backend / pg_terminate_backend from this session (see index.ts for who may signal whom) */
  signalBackend(from: PgSession, pid: number, how: 'cancel' | 'terminate'): boolean;
  onClose(): void;
}

interface Prepared {
  sql: string;
  /** declared or inferred parameter type OIDs, one per `$n` */
  paramTypes: number[];
}

interface Portal {
  statement: Prepared;
  text: SqlText;
  formatCodes: number[];
  outcome?: Outcome;
  encoders?: ColumnEncoder[];
  sent: number;
  /** where a streamed result stands between Executes (maxRows) */
  streamed?: StreamPosition;
}

interface StreamPosition {
  chunk?: RowSource;
  encoders?: ColumnEncoder[];
  /** the next row of `chunk` to send */
  offset: number;
  /** rows sent so far, for the `SELECT n` tag */
  total: number;
  done: boolean;
}

const FLUSH_BYTES = 256 * 1024;
/** statements answered locally: describing them must not run them */
const SESSION_COMMANDS = new Set(['set', 'reset', 'begin', 'start', 'commit', 'end', 'rollback', 'abort', 'savepoint', 'release', 'listen', 'unlisten', 'discard', 'deallocate',
  'declare', 'move', 'close', 'copy']);

export class PgSession {
  private readonly reader: FrameReader;
  private readonly queue: FrontendMessage[] = [];
  private processing = false;
  private out: Buffer[] = [];
  private outBytes = 0;
  private readonly chunks = new msg.ChunkPool();
  private phase: 'startup' | 'password' | 'ready' | 'closed' = 'startup';
  private readonly statements = new Map<string, Prepared>();
  private readonly portals = new Map<string, Portal>();
  private skipUntilSync = false;
  private readonly tx: { status: msg.TransactionStatus } = { status: 'I' };
  private current?: AbortController;
  private user = 'sirius';
  private database = 'sirius';
  private settings: SessionSettings;
  private startupParams = new Map<string, string>();
  private authTimer?: NodeJS.Timeout;
  private readonly cursors = new CursorStore();
  private readonly backendStart = new Date();
  private queryText = '';
  private queryStart: Date | null = null;
  private xactStart: Date | null = null;
  private stateChange: Date | null = null;
  private running = false;
  /** the key this session logged in with: checked again before each statement, so a revoked key stops working */
  private apiKey?: string;

  constructor(
    private readonly socket: Socket,
    private readonly opts: SessionOptions,
  ) {
    this.reader = new FrameReader(opts.maxMessageBytes);
    this.reader.setLimit(opts.maxPreAuthMessageBytes, ' before authentication');
    // an idle or trickling anonymous client would otherwise hold its connection slot forever
    this.authTimer = setTimeout(() => {
      this.fatal(new ProtocolError(`canceling authentication due to timeout: startup and authentication must finish within ${opts.authTimeoutMs} ms`, '57014'));
    }, opts.authTimeoutMs);
    this.authTimer.unref();
    this.settings = new SessionSettings(opts.defaultRange);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  get key(): { pid: number; secret: number } {
    return { pid: this.opts.pid, secret: this.opts.secret };
  }

  /** a getter, so that TypeScript does not narrow the phase across calls that can close the session */
  private get closed(): boolean {
    return this.phase === 'closed';
  }

  /** a CancelRequest for this session: stop the running query */
  cancel(): void {
    this.current?.abort();
  }

  /** pg_terminate_backend: the session ends with FATAL 57P01, as PostgreSQL's does */
  terminate(): void {
    this.fatal(new ProtocolError('terminating connection due to administrator command', '57P01'));
  }

  /** who this session is, for deciding whether another session may signal it: its user and the SHA-256 of its API key */
  get identity(): { user: string; keyHash?: string } {
    return { user: this.user, keyHash: this.apiKey === undefined ? undefined : createHash('sha256').update(this.apiKey).digest('hex') };
  }

  /** this session as a pg_stat_activity row; undefined until it has authenticated */
  activity(): SessionActivity | undefined {
    if (this.phase !== 'ready') return undefined;
    const tx = this.tx.status;
    return {
      pid: this.opts.pid,
      datname: this.database,
      usename: this.user,
      applicationName: this.settings.get('application_name') ?? '',
      clientAddr: this.socket.remoteAddress ?? null,
      clientPort: this.socket.remotePort ?? null,
      backendStart: this.backendStart,
      xactStart: tx === 'I' ? null : this.xactStart,
      queryStart: this.queryStart,
      stateChange: this.stateChange,
      state: this.running ? 'active' : tx === 'T' ? 'idle in transaction' : tx === 'E' ? 'idle in transaction (aborted)' : 'idle',
      query: this.queryText,
    };
  }

  /** a query starts (simple Query, or Execute of a portal): what pg_stat_activity shows */
  private starting(sql: string): void {
    const now = new Date();
    this.queryText = sql;
    this.queryStart = now;
    this.stateChange = now;
    if (this.tx.status === 'I' || this.xactStart === null) this.xactStart = now;
    this.running = true;
  }

  private finished(): void {
    this.running = false;
    this.stateChange = new Date();
    if (this.tx.status === 'I') this.xactStart = null;
  }

  close(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    clearTimeout(this.authTimer);
    this.current?.abort();
    this.cursors.clear();
    this.dropPortals();
    this.socket.destroy();
    this.opts.onClose();
  }

  private onData(chunk: Buffer): void {
    // after a fatal error the client may still be sending: drop it rather than buffer it
    if (this.closed) return;
    try {
      this.reader.push(chunk);
      for (let m = this.reader.next(); m; m = this.reader.next()) {
        if (this.closed) return;
        if (m.type === '') {
          // the untyped packets come one at a time: what follows depends on the answer
          this.handleUntyped(m.body);
        } else {
          this.queue.push(m);
        }
      }
    } catch (err) {
      this.fatal(err);
      return;
    }
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.queue.length > 0 && this.phase !== 'closed') await this.handle(this.queue.shift()!);
      await this.flush();
    } catch (err) {
      this.fatal(err);
    } finally {
      this.processing = false;
    }
  }

  private send(buf: Buffer): void {
    this.out.push(buf);
    this.outBytes += buf.length;
  }

  private async flush(): Promise<void> {
    if (this.out.length === 0 || this.phase === 'closed') return;
    const out = this.out;
    this.out = [];
    this.outBytes = 0;
    // one writev for the lot (no concatenated copy); row chunks go back to the pool once written
    const socket = this.socket;
    let ok = true;
    socket.cork();
    for (const b of out) ok = this.chunks.owns(b) ? socket.write(b, () => this.chunks.giveBack(b)) : socket.write(b);
    socket.uncork();
    if (!ok) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.socket.off('drain', done);
          this.socket.off('close', done);
          resolve();
        };
        this.socket.on('drain', done);
        this.socket.on('close', done);
      });
    }
  }

  private fatal(err: unknown): void {
    if (this.phase === 'closed') return;
    const code = err instanceof ProtocolError ? err.sqlState : 'XX000';
    this.send(msg.errorResponse({ severity: 'FATAL', code, message: (err as Error)?.message ?? String(err) }));
    const data = Buffer.concat(this.out);
    this.out = [];
    endSocket(this.socket, data);
    this.phase = 'closed';
    clearTimeout(this.authTimer);
    this.current?.abort();
    this.opts.onClose();
  }

  // ---- startup ------------------------------------------------------------------------------------

  private handleUntyped(body: Buffer): void {
    const r = new BodyReader(body);
    const code = r.int32();
    if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
      this.socket.write(msg.sslRefused());
      return;
    }
    if (code === CANCEL_REQUEST) {
      this.opts.onCancelRequest(r.int32(), r.int32());
      endSocket(this.socket);
      this.phase = 'closed';
      clearTimeout(this.authTimer);
      this.opts.onClose();
      return;
    }
    const major = code >> 16;
    const minor = code & 0xffff;
    if (major !== PROTOCOL_3) throw new ProtocolError(`unsupported frontend protocol ${major}.${minor}: the gateway speaks 3.0`, '0A000');
    this.reader.startup = false;
    const unrecognized: string[] = [];
    while (!r.done) {
      const name = r.cstring();
      if (name === '') break;
      const value = r.cstring();
      if (name.startsWith('_pq_.')) unrecognized.push(name);
      else this.startupParams.set(name, value);
    }
    if (minor > 0 || unrecognized.length > 0) this.send(msg.negotiateProtocolVersion(0, unrecognized));
    this.user = this.startupParams.get('user') ?? 'sirius';
    this.database = this.startupParams.get('database') ?? this.user;
    this.settings = new SessionSettings(this.opts.defaultRange, this.user);
    const open = this.opts.keys.check(undefined);
    if (open instanceof Promise) {
      // the client waits for our answer before it sends anything else
      open.then((v) => this.afterStartup(v)).catch((err) => this.fatal(err));
      return;
    }
    this.afterStartup(open);
  }

  private afterStartup(open: KeyVerdict): void {
    if (this.closed) return;
    if (open.ok) {
      this.finishStartup();
    } else if (open.reason === 'unavailable') {
      this.fatal(new ProtocolError(`${open.message} (retryable)`, '57P03'));
    } else {
      this.phase = 'password';
      this.send(msg.authenticationCleartextPassword());
      void this.flush();
    }
  }

  private async checkKey(key: string): Promise<void> {
    const pending = this.opts.keys.check(key);
    const v = pending instanceof Promise ? await pending : pending;
    if (v.ok) return;
    if (v.reason === 'unavailable') throw new ProtocolError(`${v.message} (retryable)`, '57P03');
    if (this.phase === 'password') {
      throw new ProtocolError(`password authentication failed for user "${this.user}": the password must be a Sirius API key`, '28P01');
    }
    throw new ProtocolError(`this session's API key is no longer accepted (${v.message})`, '28000');
  }

  private finishStartup(): void {
    try {
      for (const [name, value] of this.startupParams) {
        if (name === 'user' || name === 'database' || name === 'replication') continue;
        if (name === 'options') for (const [k, v] of parseOptions(value)) this.settings.set(k, v);
        else this.settings.set(name, value);
      }
    } catch (err) {
      if (err instanceof SettingError) throw new ProtocolError(err.message, err.sqlState);
      throw err;
    }
    this.send(msg.authenticationOk());
    for (const [k, v] of this.settings.reported()) this.send(msg.parameterStatus(k, v));
    this.send(msg.backendKeyData(this.opts.pid, this.opts.secret));
    this.send(msg.readyForQuery('I'));
    this.phase = 'ready';
    clearTimeout(this.authTimer);
    this.reader.setLimit(this.opts.maxMessageBytes);
    void this.flush();
  }

  // ---- messages -------------------------------------------------------------------------------------

  private async handle(m: FrontendMessage): Promise<void> {
    if (this.phase === 'password') {
      if (m.type !== 'p') throw new ProtocolError(`expected a password message, got '${m.type}'`);
      const password = new BodyReader(m.body).cstring();
      await this.checkKey(password);
      this.apiKey = password;
      this.finishStartup();
      return;
    }
    if (m.type === 'X') {
      this.close();
      return;
    }
    if (this.skipUntilSync && m.type !== 'S') return;
    if (this.apiKey !== undefined && (m.type === 'Q' || m.type === 'E')) await this.checkKey(this.apiKey);
    switch (m.type) {
      case 'Q': return this.simpleQuery(new BodyReader(m.body).cstring());
      case 'P': return this.guard(() => this.parse(m.body));
      case 'B': return this.guard(() => this.bind(m.body));
      case 'D': return this.guard(() => this.describe(m.body));
      case 'E': return this.guard(() => this.execute(m.body));
      case 'C': return this.guard(() => this.closeTarget(m.body));
      case 'H': return this.flush();
      case 'S':
        this.skipUntilSync = false;
        if (this.tx.status === 'I') this.dropPortals();
        this.send(msg.readyForQuery(this.tx.status));
        return this.flush();
      case 'd': case 'c': case 'f':
        return; // COPY data outside COPY: ignored, as PostgreSQL does
      case 'F':
        return this.guard(async () => {
          throw new StatementError('0A000', 'the function call protocol is not supported');
        });
      default:
        throw new ProtocolError(`invalid frontend message type '${m.type}'`);
    }
  }

  /** extended-protocol step: an error is reported once, then everything up to Sync is skipped */
  private async guard(step: () => Promise<void> | void): Promise<void> {
    try {
      await step();
    } catch (err) {
      this.reportError(err, 0);
      this.skipUntilSync = true;
    }
  }

  private reportError(err: unknown, base: number): void {
    if (err instanceof ProtocolError) throw err;
    let fields: msg.ErrorFields;
    if (err instanceof StatementError) {
      fields = { severity: 'ERROR', code: err.sqlState, message: err.message, position: err.offset === undefined ? undefined : base + err.offset + 1 };
    } else if (err instanceof ParameterError || err instanceof SettingError) {
      fields = { severity: 'ERROR', code: err.sqlState, message: err.message };
    } else if (err instanceof SqlLexError) {
      fields = { severity: 'ERROR', code: '42601', message: err.message, position: base + err.offset + 1 };
    } else {
      fields = { severity: 'ERROR', code: 'XX000', message: (err as Error)?.message ?? String(err) };
    }
    if (this.tx.status === 'T') this.tx.status = 'E';
    this.send(msg.errorResponse(fields));
  }

  private context(): StatementContext {
    this.current = new AbortController();
    return {
      engine: this.opts.engine,
      settings: this.settings,
      catalog: {
        user: this.user,
        database: this.database,
        pid: this.opts.pid,
        setting: (n) => this.settings.get(n),
        sessions: () => this.opts.sessions(),
        signalBackend: (pid, how) => this.opts.signalBackend(this, pid, how),
      },
      cursors: this.cursors,
      transaction: this.tx,
      signal: this.current.signal,
      onParameterStatus: (name, value) => this.send(msg.parameterStatus(name, value)),
      deallocate: (name) => {
        if (name === null) this.statements.clear();
        else this.statements.delete(name);
      },
    };
  }

  private async simpleQuery(sql: string): Promise<void> {
    this.starting(sql);
    try {
      const parts = splitStatements(sql);
      if (parts.length === 0) this.send(msg.emptyQueryResponse());
      for (const part of parts) {
        let outcome: Outcome;
        try {
          // the simple protocol has no parameters: a `$1` here is an error, as in PostgreSQL
          outcome = await runStatement(bindParameters(part.text, [], []), this.context(), { stream: true });
        } catch (err) {
          this.reportError(err, part.start);
          break;
        }
        await this.sendOutcome(outcome, undefined, 0, true);
      }
    } catch (err) {
      this.reportError(err, 0);
    }
    this.finished();
    this.send(msg.readyForQuery(this.tx.status));
    await this.flush();
  }

  /** rows from `portal.sent` (all, or up to maxRows in the extended protocol), then the completion */
  private async sendOutcome(outcome: Outcome, portal: Portal | undefined, maxRows: number, describe: boolean): Promise<void> {
    if (outcome.kind === 'empty') {
      this.send(msg.emptyQueryResponse());
      return;
    }
    if (outcome.kind === 'command') {
      this.send(msg.commandComplete(outcome.tag));
      return;
    }
    if (outcome.kind === 'stream') {
      await this.sendStream(outcome.rows, portal, maxRows, describe);
      return;
    }
    if (outcome.kind === 'copy') {
      const w = copyWriter(outcome.rows, outcome.options);
      this.send(msg.copyOutResponse(w.overallFormat, w.columnFormats));
      const head = w.header();
      if (head) this.send(msg.copyData(head));
      for (let r = 0; r < outcome.rows.rowCount; r++) {
        this.send(msg.copyData(w.row(r)));
        if (this.outBytes >= FLUSH_BYTES) await this.flush();
      }
      const tail = w.trailer();
      if (tail) this.send(msg.copyData(tail));
      this.send(msg.copyDone());
      this.send(msg.commandComplete(`COPY ${outcome.rows.rowCount}`));
      return;
    }
    const rows = outcome.rows;
    const encoders = portal?.encoders ?? rows.encoders(resultFormats(portal?.formatCodes ?? [], rows.columns.length));
    if (describe) this.send(msg.rowDescription(rows.columns.map((c, i) => ({ name: c.name, type: encoders[i]!.type, format: encoders[i]!.format }))));
    const from = portal?.sent ?? 0;
    const to = maxRows > 0 ? Math.min(rows.rowCount, from + maxRows) : rows.rowCount;
    const writer = new msg.DataRowWriter(this.chunks);
    for (let r = from; r < to; ) {
      r = writer.rows(encoders, r, to, FLUSH_BYTES - this.outBytes);
      if (this.outBytes + writer.size >= FLUSH_BYTES) {
        for (const b of writer.take()) this.send(b);
        await this.flush();
      }
    }
    for (const b of writer.take()) this.send(b);
    if (portal) portal.sent = to;
    if (to < rows.rowCount) this.send(msg.portalSuspended());
    else this.send(msg.commandComplete(outcome.tag));
  }

  /**
   * A streamed result's rows, batch by batch as the engine makes them: all of them, or up to `maxRows` and
   * then PortalSuspended, the position kept in the portal for the next Execute. The stream is closed once
   * read to the end or on failure (and with its portal otherwise).
   */
  private async sendStream(rows: RowStream, portal: Portal | undefined, maxRows: number, describe: boolean): Promise<void> {
    const formats = resultFormats(portal?.formatCodes ?? [], rows.columns.length);
    if (describe) this.send(msg.rowDescription(rows.describe(formats)));
    const at: StreamPosition = portal ? (portal.streamed ??= { offset: 0, total: 0, done: false }) : { offset: 0, total: 0, done: false };
    const writer = new msg.DataRowWriter(this.chunks);
    let sent = 0;
    try {
      while (!at.done) {
        if (at.chunk === undefined || at.offset >= at.chunk.rowCount) {
          at.chunk = await rows.next();
          at.offset = 0;
          if (at.chunk === undefined) {
            at.done = true;
            at.encoders = undefined;
            break;
          }
          at.encoders = at.chunk.encoders(formats);
        }
        const encoders = at.encoders!;
        const end = maxRows > 0 ? Math.min(at.chunk.rowCount, at.offset + (maxRows - sent)) : at.chunk.rowCount;
        for (let r = at.offset; r < end; ) {
          r = writer.rows(encoders, r, end, FLUSH_BYTES - this.outBytes);
          if (this.outBytes + writer.size >= FLUSH_BYTES) {
            for (const b of writer.take()) this.send(b);
            await this.flush();
          }
        }
        sent += end - at.offset;
        at.total += end - at.offset;
        at.offset = end;
        if (maxRows > 0 && sent >= maxRows) break;
      }
    } catch (err) {
      at.done = true;
      await rows.close();
      for (const b of writer.take()) this.send(b);
      throw err;
    }
    for (const b of writer.take()) this.send(b);
    if (at.done) {
      await rows.close();
      this.send(msg.commandComplete(`SELECT ${at.total}`));
    } else {
      this.send(msg.portalSuspended());
    }
  }

  /** forgets portals, stopping the queries of streamed results not read to the end */
  private dropPortals(names?: string[]): void {
    for (const name of names ?? [...this.portals.keys()]) {
      const p = this.portals.get(name);
      if (p?.outcome?.kind === 'stream') void p.outcome.rows.close();
      this.portals.delete(name);
    }
  }

  // ---- extended protocol ------------------------------------------------------------------------------

  private parse(body: Buffer): void {
    const p = readParse(body);
    if (p.name !== '' && this.statements.has(p.name)) {
      throw new StatementError('42P05', `prepared statement "${p.name}" already exists`);
    }
    const statements = splitStatements(p.sql);
    if (statements.length > 1) throw new StatementError('42601', 'cannot insert multiple commands into a prepared statement');
    const n = Math.max(countParameters(p.sql), p.paramTypes.length);
    const paramTypes = Array.from({ length: n }, (_, i) => p.paramTypes[i] ?? 0);
    this.statements.set(p.name, { sql: p.sql, paramTypes });
    this.send(msg.parseComplete());
  }

  private bind(body: Buffer): void {
    const b = readBind(body);
    const statement = this.statements.get(b.statement);
    if (!statement) throw new StatementError('26000', `prepared statement "${b.statement}" does not exist`);
    if (b.values.length !== statement.paramTypes.length) {
      throw new StatementError('08P01', `bind message supplies ${b.values.length} parameters, but prepared statement "${b.statement}" requires ${statement.paramTypes.length}`);
    }
    const texts = b.values.map((v, i) => {
      if (v === null) return null;
      return b.paramFormats[i] === 1 ? decodeBinaryParameter(v, statement.paramTypes[i]!) : v.toString('utf8');
    });
    const text = bindParameters(statement.sql, texts, statement.paramTypes);
    if (b.portal !== '' && this.portals.has(b.portal)) throw new StatementError('42P03', `cursor "${b.portal}" already exists`);
    this.dropPortals([b.portal]);
    this.portals.set(b.portal, { statement, text, formatCodes: b.resultFormats, sent: 0 });
    this.send(msg.bindComplete());
  }

  private async ensureRun(portal: Portal): Promise<Outcome> {
    if (!portal.outcome) {
      portal.outcome = await runStatement(portal.text, this.context(), { stream: true });
      if (portal.outcome.kind === 'rows') {
        const rows = portal.outcome.rows;
        portal.encoders = rows.encoders(resultFormats(portal.formatCodes, rows.columns.length));
      }
    }
    return portal.outcome;
  }

  private async describe(body: Buffer): Promise<void> {
    const r = new BodyReader(body);
    const kind = r.byte();
    const name = r.cstring();
    if (kind === 'P') {
      const portal = this.portals.get(name);
      if (!portal) throw new StatementError('34000', `portal "${name}" does not exist`);
      const first = codeTokens(portal.statement.sql)[0]?.value ?? '';
      if (SESSION_COMMANDS.has(first)) {
        this.send(msg.noData());
        return;
      }
      const outcome = await this.ensureRun(portal);
      if (outcome.kind === 'stream') this.send(msg.rowDescription(outcome.rows.describe(resultFormats(portal.formatCodes, outcome.rows.columns.length))));
      else if (outcome.kind !== 'rows') this.send(msg.noData());
      else {
        const enc = portal.encoders!;
        this.send(msg.rowDescription(outcome.rows.columns.map((c, i) => ({ name: c.name, type: enc[i]!.type, format: enc[i]!.format }))));
      }
      return;
    }
    if (kind !== 'S') throw new ProtocolError(`invalid Describe target '${kind}'`);
    const statement = this.statements.get(name);
    if (!statement) throw new StatementError('26000', `prepared statement "${name}" does not exist`);
    this.send(msg.parameterDescription(statement.paramTypes.map((t) => (t === 0 ? PG_TYPES.text.oid : t))));
    const first = codeTokens(statement.sql)[0]?.value ?? '';
    if (SESSION_COMMANDS.has(first) || first === '') {
      this.send(msg.noData());
      return;
    }
    const text = bindParameters(statement.sql, statement.paramTypes.map(() => null), statement.paramTypes);
    const outcome = first === 'show' ? await runStatement(text, this.context()) : await runStatement(text, this.context(), { describeOnly: true });
    if (outcome.kind !== 'rows') this.send(msg.noData());
    else this.send(msg.rowDescription(outcome.rows.columns.map((c) => ({ name: c.name, type: c.type, format: 'text' as const }))));
  }

  private async execute(body: Buffer): Promise<void> {
    const r = new BodyReader(body);
    const name = r.cstring();
    const maxRows = r.int32();
    const portal = this.portals.get(name);
    if (!portal) throw new StatementError('34000', `portal "${name}" does not exist`);
    this.starting(portal.statement.sql);
    try {
      const outcome = await this.ensureRun(portal);
      await this.sendOutcome(outcome, portal, Math.max(0, maxRows), false);
    } finally {
      this.finished();
    }
  }

  private closeTarget(body: Buffer): void {
    const r = new BodyReader(body);
    const kind = r.byte();
    const name = r.cstring();
    if (kind === 'S') this.statements.delete(name);
    else if (kind === 'P') this.dropPortals([name]);
    else throw new ProtocolError(`invalid Close target '${kind}'`);
    this.send(msg.closeComplete());
  }
}

/** the startup `options` string: `-c name=value` and `--name=value`, separated by spaces */
export function parseOptions(options: string): [string, string][] {
  const out: [string, string][] = [];
  const words = options.match(/(?:\\.|\S)+/g)?.map((w) => w.replace(/\\(.)/g, '$1')) ?? [];
  for (let i = 0; i < words.length; i++) {
    let w = words[i]!;
    if (w === '-c' && i + 1 < words.length) w = words[++i]!;
    else if (w.startsWith('-c')) w = w.slice(2);
    else if (w.startsWith('--')) w = w.slice(2);
    else continue;
    const eq = w.indexOf('=');
    if (eq > 0) out.push([w.slice(0, eq).replace(/-/g, '_'), w.slice(eq + 1)]);
  }
  return out;
}

