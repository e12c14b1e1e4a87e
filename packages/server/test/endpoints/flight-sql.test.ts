/**
 * Arrow Flight SQL over real gRPC on loopback: a grpc-js client built from the same protos runs plain
 * and prepared statements, reads the FlightData stream back into Arrow, and checks errors, catalog
 * commands, authentication and the time budget against a real engine over a real lake.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { Binary, Bool, Field, Float64, Int32, Int64, List, Schema, Table as ArrowTable, tableFromArrays, tableFromIPC, tableToIPC, TimestampNanosecond, Utf8, vectorFromArray, type Table } from 'apache-arrow';
import { bindParameters, parameterCount, parameterLiterals } from '../../src/endpoints/flight-sql/parameters.js';
import { startQueryServer, type QueryServer } from './query-server.js';
import * as flight from './flight-client.js';
import { cmd, connect, streamCall, unaryCall, type Client } from './flight-client.js';
import { startFlightSqlServer, type FlightSqlServer } from '../../src/endpoints/flight-sql/index.js';
import {
  DESCRIPTOR_CMD, encodeMessage, packAny, unpackAny, type FlightData, type FlightInfo, type SqlMessageName,
} from '../../src/endpoints/flight-sql/protocol.js';
import { IpcFramingError, joinIpcMessages, splitIpcStream, tableToIpcMessages } from '../../src/endpoints/flight-sql/ipc-messages.js';
import { HandleStore } from '../../src/endpoints/flight-sql/handle-store.js';
import { likePattern } from '../../src/endpoints/flight-sql/catalog.js';
import { GLOBAL_VIEWS } from '../../src/analytics/sql-scan.js';
import { createFlightSqlClient } from '@lakehouse-rs/flight-sql-client';
import { startEngine, type EngineFixture } from '../analytics/engine-fixture.js';

const BEGIN = '2024-05-01T00:00:00Z';
const END = '2024-05-01T01:00:00Z';
const md = (headers: Record<string, string> = { 'x-sirius-begin': BEGIN, 'x-sirius-end': END }) => flight.md(headers);
const flightInfo = (c: Client, name: SqlMessageName, value: object, meta = md()) => flight.flightInfo(c, name, value, meta);
const readTicket = (c: Client, info: FlightInfo, meta = md()) => flight.readTicket(c, info, meta);

/** an encapsulated schema message read back (with an end-of-stream marker appended) */
function schemaOf(bytes: Uint8Array): string[] {
  return tableFromIPC(Buffer.concat([bytes, Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])])).schema.fields.map((f) => `${f.name}:${f.type}`);
}

async function rejectsWith(p: Promise<unknown>, code: grpc.status, message?: RegExp): Promise<grpc.ServiceError> {
  let caught: grpc.ServiceError | undefined;
  await assert.rejects(p, (err: grpc.ServiceError) => {
    caught = err;
    assert.equal(err.code, code, `status ${err.code} (${err.details}), expected ${code}`);
    if (message) assert.match(err.details, message);
    return true;
  });
  return caught!;
}

describe('Flight SQL server', () => {
  let s: QueryServer;
  let flight: FlightSqlServer;
  let client: Client;
  before(async () => {
    s = await startQueryServer({ timeoutMs: 20_000 });
    flight = await startFlightSqlServer({ engine: s.engine.engine, port: 0 });
    client = connect(flight.port);
  });
  after(async () => {
    client?.close();
    await flight?.close();
    await s?.close();
  });

  test('plain statement: GetFlightInfo gives the schema and a ticket; DoGet streams the rows', async () => {
    const info = await flightInfo(client, 'CommandStatementQuery', { query: 'SELECT time, level, msg FROM log_entries WHERE level <= 2 ORDER BY time' });
    assert.deepEqual(schemaOf(info.schema!), ['time:Timestamp<NANOSECOND, UTC>', 'level:Int32', 'msg:Utf8']);
    assert.equal(String(info.total_records), '-1', 'GetFlightInfo prepares the statement; it runs in DoGet');
    assert.equal(unpackAny(info.endpoint![0]!.ticket!.ticket).name, 'TicketStatementQuery');
    const { table, messages } = await readTicket(client, info);
    assert.ok(messages.length >= 2, 'a schema message, then record batches');
    assert.equal(table.numRows, 4);
    assert.deepEqual(table.getChild('msg')!.toArray(), ['m0', 'm1', 'm6', 'm7']);
    assert.deepEqual([...table.getChild('level')!.toArray()], [1, 2, 1, 2]);
    const raw = table.getChild('time')!.data[0]!.values as unknown as BigInt64Array;
    assert.equal(raw[1], 1_714_521_601_000_000_123n);
    // tickets are single-use
    await rejectsWith(readTicket(client, info), grpc.status.NOT_FOUND, /already read/);
  });

  test('the time range comes from x-sirius-begin / x-sirius-end and defaults to the last 24 h', async () => {
    let info = await flightInfo(client, 'CommandStatementQuery', { query: 'SELECT count(*) AS n FROM log_entries' },
      md({ 'x-sirius-begin': BEGIN, 'x-sirius-end': '2024-05-01T00:00:03Z' }));
    assert.deepEqual((await readTicket(client, info)).table.getChild('n')!.toArray(), BigInt64Array.from([3n]));
    info = await flightInfo(client, 'CommandStatementQuery', { query: 'SELECT count(*) AS n FROM log_entries' }, md({}));
    assert.deepEqual((await readTicket(client, info)).table.getChild('n')!.toArray(), BigInt64Array.from([0n]));
  });

  test('prepared statement: create, execute twice over different ranges, GetSchema, close', async () => {
    const [res] = await streamCall<{ body: Buffer }>(client, 'DoAction', {
      type: 'CreatePreparedStatement',
      body: packAny('ActionCreatePreparedStatementRequest', { query: 'SELECT msg, level FROM log_entries ORDER BY time' }),
    }, md());
    const created = unpackAny(res!.body);
    assert.equal(created.name, 'ActionCreatePreparedStatementResult');
    const handle = created.message.prepared_statement_handle as Buffer;
    assert.ok(handle.byteLength > 0);
    assert.deepEqual(schemaOf(created.message.dataset_schema as Buffer), ['msg:Utf8', 'level:Int32']);

    let info = await flightInfo(client, 'CommandPreparedStatementQuery', { prepared_statement_handle: handle });
    let { table } = await readTicket(client, info);
    assert.equal(table.numRows, 10);
    assert.deepEqual(table.getChild('msg')!.toArray().slice(0, 3), ['m0', 'm1', 'm2']);

    const narrow = md({ 'x-sirius-begin': '2024-05-01T00:00:05Z', 'x-sirius-end': END });
    info = await flightInfo(client, 'CommandPreparedStatementQuery', { prepared_statement_handle: handle }, narrow);
    ({ table } = await readTicket(client, info, narrow));
    assert.deepEqual(table.getChild('msg')!.toArray(), ['m5', 'm6', 'm7', 'm8', 'm9']);

    const schema = await unaryCall<{ schema: Buffer }>(client, 'GetSchema', cmd('CommandPreparedStatementQuery', { prepared_statement_handle: handle }), md());
    assert.deepEqual(schemaOf(schema.schema), ['msg:Utf8', 'level:Int32']);

    const closed = await streamCall(client, 'DoAction', {
      type: 'ClosePreparedStatement',
      body: packAny('ActionClosePreparedStatementRequest', { prepared_statement_handle: handle }),
    }, md());
    assert.deepEqual(closed, []);
    await rejectsWith(flightInfo(client, 'CommandPreparedStatementQuery', { prepared_statement_handle: handle }), grpc.status.NOT_FOUND, /prepared statement/);
  });

  test('errors: INVALID_ARGUMENT with the engine message and position; bad input; unsupported commands', async () => {
    const err = await rejectsWith(flightInfo(client, 'CommandStatementQuery', { query: 'SELECT lvl FROM log_entries' }),
      grpc.status.INVALID_ARGUMENT, /Referenced column "lvl" not found.*\(at position 8\)/s);
    assert.deepEqual(err.metadata.get('x-sirius-error-position'), ['8']);
    await rejectsWith(streamCall(client, 'DoAction', {
      type: 'CreatePreparedStatement',
      body: packAny('ActionCreatePreparedStatementRequest', { query: 'SELECT * FROM log_entries WHERE' }),
    }, md()), grpc.status.INVALID_ARGUMENT, /position/);
    await rejectsWith(flightInfo(client, 'CommandStatementQuery', { query: 'SELECT 1' }, md({ 'x-sirius-begin': 'soon' })),
      grpc.status.INVALID_ARGUMENT, /cannot read time "soon"/);
    await rejectsWith(flightInfo(client, 'CommandStatementQuery', { query: 'SELECT 1; SELECT 2' }), grpc.status.INVALID_ARGUMENT, /one statement per query/);
    const primaryKeys = encodeMessage('google.protobuf.Any', { type_url: 'type.googleapis.com/arrow.flight.protocol.sql.CommandGetPrimaryKeys', value: Buffer.alloc(0) });
    await rejectsWith(unaryCall(client, 'GetFlightInfo', { type: DESCRIPTOR_CMD, cmd: primaryKeys }, md()), grpc.status.UNIMPLEMENTED, /CommandGetPrimaryKeys/);
    await rejectsWith(unaryCall(client, 'GetFlightInfo', { type: 1, path: ['x'] }, md()), grpc.status.INVALID_ARGUMENT, /command descriptors/);
    await rejectsWith(streamCall(client, 'DoGet', { ticket: Buffer.from('garbage') }, md()), grpc.status.INVALID_ARGUMENT);
    await rejectsWith(streamCall(client, 'DoAction', { type: 'BeginTransaction', body: Buffer.alloc(0) }, md()), grpc.status.UNIMPLEMENTED, /unknown action/);
  });

  test('catalog: GetTables lists the views (with schemas on request), table types, catalogs, SqlInfo', async () => {
    let info = await flightInfo(client, 'CommandGetTables', {});
    let { table } = await readTicket(client, info);
    assert.deepEqual(schemaOf(info.schema!), ['catalog_name:Utf8', 'db_schema_name:Utf8', 'table_name:Utf8', 'table_type:Utf8']);
    assert.deepEqual(table.getChild('table_name')!.toArray(), [...GLOBAL_VIEWS].sort());
    assert.ok(GLOBAL_VIEWS.includes('log_entries') && GLOBAL_VIEWS.includes('processes'));
    assert.deepEqual([...new Set(table.getChild('table_type')!.toArray())], ['VIEW']);

    info = await flightInfo(client, 'CommandGetTables', { table_name_filter_pattern: 'log%', include_schema: true, table_types: ['VIEW', 'TABLE'] });
    ({ table } = await readTicket(client, info));
    assert.deepEqual(table.getChild('table_name')!.toArray(), ['log_entries', 'log_stats']);
    const logSchema = schemaOf(table.getChild('table_schema')!.get(0) as Uint8Array);
    assert.ok(logSchema.includes('msg:Utf8') && logSchema.includes('level:Int32'), logSchema.join());

    info = await flightInfo(client, 'CommandGetTables', { table_types: ['TABLE'] });
    assert.equal((await readTicket(client, info)).table.numRows, 0);

    ({ table } = await readTicket(client, await flightInfo(client, 'CommandGetTableTypes', {})));
    assert.deepEqual(table.getChild('table_type')!.toArray(), ['VIEW']);
    ({ table } = await readTicket(client, await flightInfo(client, 'CommandGetCatalogs', {})));
    assert.equal(table.numRows, 0);
    ({ table } = await readTicket(client, await flightInfo(client, 'CommandGetDbSchemas', {})));
    assert.equal(table.numRows, 0);

    info = await flightInfo(client, 'CommandGetSqlInfo', { info: [0, 3, 504] });
    ({ table } = await readTicket(client, info));
    assert.deepEqual([...table.getChild('info_name')!.toArray()], [0, 3, 504]);
    assert.deepEqual(table.getChild('value')!.toArray(), ['Sirius', true, '"']);
  });

  test('large results are re-cut into record batches a default gRPC client accepts', async () => {
    const info = await flightInfo(client, 'CommandStatementQuery', { query: `SELECT i, repeat('x', 200) || i::VARCHAR AS s FROM range(60000) t(i)` });
    const { table, messages } = await readTicket(client, info);
    assert.equal(table.numRows, 60_000);
    assert.equal(table.getChild('s')!.get(59_999), `${'x'.repeat(200)}59999`);
    assert.ok(messages.length > 4, `${messages.length} messages`);
    for (const m of messages) assert.ok((m.data_body?.byteLength ?? 0) < 4 * 1024 * 1024);
  });

  test('ListActions, Handshake without keys, DoPut refused for anything but parameters', async () => {
    const actions = await streamCall<{ type: string }>(client, 'ListActions', {}, md());
    assert.deepEqual(actions.map((a) => a.type), ['CreatePreparedStatement', 'ClosePreparedStatement', 'CloseSession']);
    const hs = await handshake(client, md({}));
    assert.equal(hs.responses, 1);
    await rejectsWith(doPut(client, []), grpc.status.INVALID_ARGUMENT, /first message must carry a command/);
    await rejectsWith(doPut(client, [{ flight_descriptor: cmd('CommandStatementQuery', { query: 'SELECT 1' }) }]), grpc.status.UNIMPLEMENTED, /read-only/);
  });

  test('prepared statement with parameters: ? placeholders bound with DoPut, run, bound again; $n too', async () => {
    const prepare = async (query: string) => {
      const [res] = await streamCall<{ body: Buffer }>(client, 'DoAction', { type: 'CreatePreparedStatement', body: packAny('ActionCreatePreparedStatementRequest', { query }) }, md());
      const created = unpackAny(res!.body).message;
      return { handle: created.prepared_statement_handle as Buffer, schema: schemaOf(created.dataset_schema as Buffer) };
    };
    const run = async (handle: Buffer) => (await readTicket(client, await flightInfo(client, 'CommandPreparedStatementQuery', { prepared_statement_handle: handle }))).table;
    const bind = (handle: Buffer, params: ArrowTable) => doPut(client, [
      { flight_descriptor: cmd('CommandPreparedStatementQuery', { prepared_statement_handle: handle }) },
      ...[...tableToIpcMessages(params)].map((m) => ({ data_header: m.header, data_body: m.body })),
    ]);
    // checked and typed at prepare time with every parameter NULL
    const { handle, schema } = await prepare("SELECT msg, level FROM log_entries WHERE level <= ? AND msg <> ? ORDER BY time");
    assert.deepEqual(schema, ['msg:Utf8', 'level:Int32']);
    await rejectsWith(run(handle), grpc.status.INVALID_ARGUMENT, /takes 2 parameter\(s\): bind them with DoPut/);
    await bind(handle, tableFromArrays({ max: Int32Array.from([2]), not: ["it's m1"] }));
    // a quote in a value stays inside its literal
    assert.deepEqual((await run(handle)).getChild('msg')!.toArray(), ['m0', 'm1', 'm6', 'm7']);
    await bind(handle, tableFromArrays({ max: Float64Array.from([1.5]), not: ['m6'] }));
    assert.deepEqual((await run(handle)).getChild('msg')!.toArray(), ['m0']);
    // the wrong number of values, or several rows, is refused when bound
    await rejectsWith(bind(handle, tableFromArrays({ max: Int32Array.from([2]) })), grpc.status.INVALID_ARGUMENT, /takes 2 parameter\(s\), 1 were bound/);
    await rejectsWith(bind(handle, tableFromArrays({ max: Int32Array.from([1, 2]), not: ['a', 'b'] })), grpc.status.INVALID_ARGUMENT, /one row of parameters/);
    const numbered = await prepare('SELECT count(*) AS n FROM log_entries WHERE level = $1 OR level = $1 + 1');
    await bind(numbered.handle, tableFromArrays({ v: BigInt64Array.from([1n]) }));
    assert.deepEqual((await run(numbered.handle)).getChild('n')!.toArray(), BigInt64Array.from([4n]));
    await rejectsWith(bind(Buffer.from('nope'), tableFromArrays({ v: Int32Array.from([1]) })), grpc.status.NOT_FOUND, /prepared statement/);
  });

  test('prepared statements give their parameter types (parameter_schema) as DuckDB infers them', async () => {
    const prepare = async (query: string) => {
      const [res] = await streamCall<{ body: Buffer }>(client, 'DoAction', { type: 'CreatePreparedStatement', body: packAny('ActionCreatePreparedStatementRequest', { query }) }, md());
      const m = unpackAny(res!.body).message;
      return { dataset: schemaOf(m.dataset_schema as Buffer), params: schemaOf(m.parameter_schema as Buffer) };
    };
    let got = await prepare('SELECT msg FROM log_entries WHERE level <= ? AND msg <> ? AND time > ?');
    assert.deepEqual(got.params, ['1:Int32', '2:Utf8', '3:Timestamp<NANOSECOND, UTC>']);
    assert.deepEqual(got.dataset, ['msg:Utf8']);
    got = await prepare('SELECT count(*) AS n FROM log_entries WHERE msg = $2 OR level = $1');
    assert.deepEqual(got.params, ['1:Int32', '2:Utf8']);
    // DuckDB cannot type a bare placeholder: Null, and the result typed with the parameter NULL
    got = await prepare('SELECT ? AS x, 1 AS one');
    assert.deepEqual(got.params, ['1:Null']);
    assert.deepEqual(got.dataset.at(-1), 'one:Int32');
    got = await prepare('SELECT 1 AS one');
    assert.deepEqual(got.params, []);
  });

  test('DoGet of a TicketStatementQuery whose handle is SQL text runs it (the seed system\'s client)', async () => {
    const ticket = (handle: Buffer) => ({ ticket: packAny('TicketStatementQuery', { statement_handle: handle }) });
    const messages = await streamCall<FlightData>(client, 'DoGet', ticket(Buffer.from('SELECT msg FROM log_entries WHERE level <= 2 ORDER BY time')), md());
    const table = tableFromIPC(joinIpcMessages(messages.map((m) => ({ header: m.data_header!, body: m.data_body ?? new Uint8Array(0) }))));
    assert.deepEqual(table.getChild('msg')!.toArray(), ['m0', 'm1', 'm6', 'm7']);
    // a handle of ours (NUL first) that is unknown is NOT_FOUND, not SQL
    await rejectsWith(streamCall(client, 'DoGet', ticket(Buffer.from([0, 1, 2, 3])), md()), grpc.status.NOT_FOUND, /call GetFlightInfo again/);
    await rejectsWith(streamCall(client, 'DoGet', ticket(Buffer.from('SELEC 1')), md()), grpc.status.INVALID_ARGUMENT, /syntax error/);
  });

  test('GetFlightInfo prepares without running: a failure at run time comes from DoGet', async () => {
    const info = await flightInfo(client, 'CommandStatementQuery', { query: "SELECT error('boom at run time') AS x FROM log_entries" });
    assert.deepEqual(schemaOf(info.schema!).map((f) => f.split(':')[0]), ['x']);
    await rejectsWith(readTicket(client, info), grpc.status.INVALID_ARGUMENT, /boom at run time/);
  });

  describe('with API keys', () => {
    let secured: FlightSqlServer;
    let c2: Client;
    before(async () => {
      secured = await startFlightSqlServer({ engine: s.engine.engine, port: 0, apiKeys: ['s3cret'] });
      c2 = connect(secured.port);
    });
    after(async () => {
      c2?.close();
      await secured?.close();
    });

    test('calls without a known key are UNAUTHENTICATED; Bearer and Basic (key as password) work', async () => {
      const q = { query: 'SELECT 1 AS one' };
      await rejectsWith(flightInfo(c2, 'CommandStatementQuery', q), grpc.status.UNAUTHENTICATED, /missing API key/);
      await rejectsWith(flightInfo(c2, 'CommandStatementQuery', q, md({ authorization: 'Bearer nope' })), grpc.status.UNAUTHENTICATED, /unknown API key/);
      await rejectsWith(handshake(c2, md({ authorization: 'Bearer nope' })), grpc.status.UNAUTHENTICATED);
      const hs = await handshake(c2, md({ authorization: `Basic ${Buffer.from('user:s3cret').toString('base64')}` }));
      assert.equal(hs.token, 'Bearer s3cret');
      const info = await flightInfo(c2, 'CommandStatementQuery', q, md({ authorization: hs.token! }));
      const { table } = await readTicket(c2, info, md({ authorization: hs.token! }));
      assert.deepEqual([...table.getChild('one')!.toArray()], [1]);
    });
  });
});

describe('Flight SQL streaming', () => {
  const MiB = 2 ** 20;
  let f: EngineFixture;
  let server: FlightSqlServer;
  let client: Client;
  before(async () => {
    // results far over the per-query cap must still stream whole
    f = await startEngine({ limits: { maxResultBytes: 4 * MiB, resultMemoryBytes: 8 * MiB, timeoutMs: 60_000 } });
    server = await startFlightSqlServer({ engine: f.engine, port: 0 });
    client = connect(server.port);
  });
  after(async () => {
    client?.close();
    await server?.close();
    await f?.close();
  });

  // 30 000 rows of ~1 kB: about 30 MB, over 7 times the 4 MiB cap
  const BIG = `SELECT i, repeat('x', 1000) || i::VARCHAR AS s FROM range(30000) r(i)`;

  function checksum(table: Table): { rows: number; sum: bigint; chars: number } {
    let sum = 0n;
    let chars = 0;
    for (const v of table.getChild('i')!) sum += BigInt(v as bigint);
    for (const v of table.getChild('s')!) chars += (v as string).length;
    return { rows: table.numRows, sum, chars };
  }
  const expected = { rows: 30000, sum: (29999n * 30000n) / 2n, chars: 30000 * 1000 + 10 + 90 * 2 + 900 * 3 + 9000 * 4 + 20000 * 5 };

  test('a result over the per-query memory cap streams completely to the npm Flight SQL client (arrow-rs)', async () => {
    await assert.rejects(f.engine.query(BIG, { begin: '1h', end: 'now' }), /more than 4 MiB/, 'the result in one piece is over the cap');
    const npm = await createFlightSqlClient({ host: '127.0.0.1', port: server.port, tls: false, headers: [] });
    const table = tableFromIPC(await npm.query(BIG));
    assert.deepEqual(checksum(table), expected);
    assert.ok(table.batches.length >= 10, `${table.batches.length} record batches`);
  });

  test('… and to the grpc-js client, in batches under 4 MiB', async () => {
    const info = await flight.flightInfo(client, 'CommandStatementQuery', { query: BIG }, flight.md({}));
    const { table, messages } = await flight.readTicket(client, info, flight.md({}));
    assert.deepEqual(checksum(table), expected);
    for (const m of messages) assert.ok((m.data_body?.byteLength ?? 0) < 4 * MiB);
  });

  test('a client that goes away mid-stream frees its query slot', async () => {
    // more abandoned streams than the engine has slots (2): each must give its slot back
    for (let k = 0; k < 3; k++) {
      await new Promise<void>((resolve, reject) => {
        const call = client.DoGet!({ ticket: packAny('CommandStatementQuery', { query: 'SELECT * FROM range(100000000) r(i)' }) }, flight.md({})) as grpc.ClientReadableStream<FlightData>;
        let got = 0;
        call.on('data', () => {
          if (++got === 2) call.cancel(); // the schema and a first batch arrived
        });
        call.on('error', (err: grpc.ServiceError) => (err.code === grpc.status.CANCELLED ? resolve() : reject(err)));
        call.on('end', () => reject(new Error('the 100 M-row stream ended before it was cancelled')));
      });
    }
    const info = await flight.flightInfo(client, 'CommandStatementQuery', { query: 'SELECT 42 AS answer' }, flight.md({}));
    const { table } = await flight.readTicket(client, info, flight.md({}));
    assert.deepEqual([...table.getChild('answer')!.toArray()], [42]);
  });
});

describe('Flight SQL time budget', () => {
  let s: QueryServer;
  let flight: FlightSqlServer;
  let client: Client;
  before(async () => {
    s = await startQueryServer({ timeoutMs: 300 });
    flight = await startFlightSqlServer({ engine: s.engine.engine, port: 0 });
    client = connect(flight.port);
  });
  after(async () => {
    client?.close();
    await flight?.close();
    await s?.close();
  });

  test('a query past the budget fails with DEADLINE_EXCEEDED and the engine message', async () => {
    // the query runs, and runs out of time, in DoGet (or, on a machine slow enough, already while GetFlightInfo plans it)
    const run = async () => readTicket(client, await flightInfo(client, 'CommandStatementQuery', { query: 'SELECT count(*) FROM range(1000000000) a, range(1000000000) b' }));
    await rejectsWith(run(), grpc.status.DEADLINE_EXCEEDED, /time budget of 300 ms/);
  });
});

describe('Flight SQL building blocks', () => {
  test('handles expire after their TTL without use, use pushes expiry back, the store is bounded', () => {
    let now = 0;
    const store = new HandleStore<string>({ ttlMs: 100, maxEntries: 2, now: () => now });
    const a = store.put('a');
    now = 90;
    assert.equal(store.get(a), 'a'); // used at 90: lives until 190
    const b = store.put('b');
    now = 150;
    assert.equal(store.get(a), 'a');
    const c = store.put('c'); // evicts the least recently used: b
    assert.equal(store.get(b), undefined);
    assert.equal(store.take(c), 'c');
    assert.equal(store.take(c), undefined);
    now = 1_000;
    assert.equal(store.get(a), undefined);
    assert.equal(store.size, 0);
  });

  test('IPC streams split into messages and join back; an empty result is a schema alone; truncation is an error', () => {
    const t = tableFromArrays({ n: Int32Array.from([1, 2, 3]), s: ['a', 'b', 'c'] });
    const msgs = splitIpcStream(tableToIPC(t, 'stream'));
    assert.equal(msgs.length, 3, 'schema, dictionary batch (strings from tableFromArrays are dictionary-encoded), record batch');
    assert.equal(msgs[0]!.body.byteLength, 0);
    assert.deepEqual(tableFromIPC(joinIpcMessages(msgs)).getChild('s')!.toArray(), ['a', 'b', 'c']);
    const empty = [...tableToIpcMessages(new ArrowTable(new Schema([new Field('x', new Utf8())])))];
    assert.equal(empty.length, 1);
    assert.equal(tableFromIPC(joinIpcMessages(empty)).numRows, 0);
    const bytes = tableToIPC(t, 'stream');
    assert.throws(() => splitIpcStream(bytes.subarray(0, bytes.byteLength - 20)), IpcFramingError);
  });

  test('parameters: placeholders outside strings and comments, literals by Arrow type, nothing that changes the statement', () => {
    assert.equal(parameterCount("SELECT '?' AS q, x ?| y -- ?\n FROM t WHERE a = ? AND b = ?"), 2);
    assert.equal(bindParameters("SELECT '?' -- ?\n, ? , ?", ['1', "'x'"]), "SELECT '?' -- ?\n, 1 , 'x'");
    assert.equal(bindParameters('SELECT $2, $1, $2', ['1', '2']), 'SELECT 2, 1, 2');
    assert.throws(() => parameterCount('SELECT ?, $1'), /either \? or \$1/);
    assert.throws(() => parameterCount('SELECT $0'), /no parameter \$0/);
    const row = new ArrowTable({
      b: vectorFromArray([true], new Bool()),
      i: vectorFromArray([-7n], new Int64()),
      f: vectorFromArray([Number.NaN], new Float64()),
      s: vectorFromArray(["o'clock; DROP"], new Utf8()),
      n: vectorFromArray([null], new Utf8()),
      t: vectorFromArray([Date.UTC(2024, 4, 1) + 0.5], new TimestampNanosecond()),
      bin: vectorFromArray([Uint8Array.from([0xca, 0xfe])], new Binary()),
    });
    assert.deepEqual(parameterLiterals(row), [
      'TRUE', '(-7)', "CAST('NaN' AS DOUBLE)", "'o''clock; DROP'", 'NULL', 'make_timestamp_ns(1714521600000500000)', "from_hex('cafe')",
    ]);
    assert.throws(() => parameterLiterals(new ArrowTable({ l: vectorFromArray([[1]], new List(new Field('x', new Int32()))) })), /cannot bind; send it as a string/);
  });

  test('filter patterns are SQL LIKE: % any run, _ one character, the rest literal', () => {
    assert.ok(likePattern('log%').test('log_entries'));
    assert.ok(likePattern('_easures').test('measures'));
    assert.ok(!likePattern('log.entries').test('log_entries'));
    assert.ok(!likePattern('log').test('log_entries'));
  });
});

/** A DoPut of `messages`; resolves when the server ends the call (it sends no PutResult). */
function doPut(c: Client, messages: object[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const put = (c.DoPut as (m: grpc.Metadata) => grpc.ClientDuplexStream<object, object>)(md());
    put.on('data', () => undefined);
    put.on('error', reject);
    put.on('end', () => resolve());
    for (const m of messages) put.write(m);
    put.end();
  });
}

/** one Handshake exchange: the number of responses and the authorization header the server sent back */
function handshake(c: Client, meta: grpc.Metadata): Promise<{ responses: number; token?: string }> {
  return new Promise((resolve, reject) => {
    const call = (c.Handshake as (m: grpc.Metadata) => grpc.ClientDuplexStream<object, object>)(meta);
    let token: string | undefined;
    let responses = 0;
    call.on('metadata', (m: grpc.Metadata) => {
      const v = m.get('authorization')[0];
      if (v !== undefined) token = String(v);
    });
    call.on('data', () => responses++);
    call.on('error', reject);
    call.on('end', () => resolve({ responses, token }));
    call.write({ protocol_version: 0, payload: Buffer.alloc(0) });
    call.end();
  });
}
