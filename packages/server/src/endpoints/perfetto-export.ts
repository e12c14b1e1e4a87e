/**
 * `GET /api/perfetto/:process_id?begin=…&end=…`: one process's CPU traces over a time range as a Perfetto
 * trace file (open it at ui.perfetto.dev or in trace_processor). Each `cpu` stream becomes a thread track
 * from `view_instance('thread_spans', stream)`, async spans come from `view_instance('async_events', process)`;
 * both are materialized just in time like any query over them.
 *
 * @example
 *   curl -o game.perfetto "localhost:9000/api/perfetto/<process_id>?begin=5m&end=now"
 */
import { Hono } from 'hono';
import type { Table } from 'apache-arrow';
import { perfettoTrace, type PerfettoThread } from '../analytics/perfetto/index.js';
import type { QueryEngine } from '../analytics/query-engine.js';
import { BUSY_RETRY_AFTER_SECONDS, QueryError } from '../analytics/query-error.js';
import { findUnavailable } from '../lake/unavailable.js';
import { redactPaths } from '../redact-paths.js';
import type { ColumnSpec, RowBatch } from '../lakehouse/row-batch.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// times as BIGINT ns so Arrow hands back exact bigints; the shapes perfettoTrace reads
const SPAN_COLUMNS = `epoch_ns("begin") AS "begin", epoch_ns("end") AS "end", depth::INTEGER AS depth, name, target, filename, line::INTEGER AS line`;
const ASYNC_COLUMNS = `epoch_ns(time) AS time, event_type, span_id, parent_span_id, depth::INTEGER AS depth, name, target, filename, line::INTEGER AS line`;

export function createPerfettoRoutes(deps: { engine: QueryEngine }): Hono {
  const app = new Hono();
  app.get('/perfetto/:process_id', async (c) => {
    const processId = c.req.param('process_id');
    const begin = c.req.query('begin') ?? '1h';
    const end = c.req.query('end') ?? 'now';
    if (!UUID.test(processId)) return c.json({ error: `"${processId}" is not a process id (a UUID)` }, 400);
    const range = { begin, end };
    try {
      const run = async (sql: string) => (await deps.engine.query(sql, range)).table;
      const procs = rows(await run(`SELECT exe FROM processes WHERE process_id = '${processId}'`));
      if (procs.length === 0) return c.json({ error: `no process ${processId} in [${begin}, ${end})` }, 404);
      const streams = rows(
        await run(
          `SELECT stream_id, coalesce(property_get(properties, 'thread_name'), 'thread') AS name FROM streams
           WHERE process_id = '${processId}' AND list_contains(tags, 'cpu') ORDER BY insert_time`,
        ),
      );
      const threads: PerfettoThread[] = [];
      for (const s of streams) {
        const id = String(s.stream_id);
        const table = await run(`SELECT ${SPAN_COLUMNS} FROM view_instance('thread_spans', '${id}') ORDER BY "begin"`);
        threads.push({ stream_id: id, name: String(s.name), rows: toRowBatch(table) });
      }
      const async = toRowBatch(await run(`SELECT ${ASYNC_COLUMNS} FROM view_instance('async_events', '${processId}') ORDER BY time`));
      const trace = perfettoTrace({ process: { process_id: processId, exe: String(procs[0]!.exe) }, threads, async });
      return c.body(trace as Uint8Array<ArrayBuffer>, 200, {
        'content-type': 'application/octet-stream',
        'content-disposition': `attachment; filename="${processId}.perfetto-trace"`,
      });
    } catch (err) {
      // a lake outage reaches here wrapped in a QueryError (its cause); it is not the client's fault
      const down = findUnavailable(err);
      if (down) return c.json({ error: down.message }, 503, { 'Retry-After': String(down.retryAfterSeconds) });
      if (err instanceof QueryError && err.code === 'busy') {
        return c.json({ error: err.message }, 503, { 'Retry-After': String(BUSY_RETRY_AFTER_SECONDS) });
      }
      if (err instanceof QueryError) return c.json({ error: redactPaths(err.message) }, 400);
      throw err;
    }
  });
  return app;
}

function rows(table: Table): Record<string, unknown>[] {
  return table.toArray().map((r) => r.toJSON() as Record<string, unknown>);
}

/** An Arrow table as the column batch the Perfetto writer reads (values as JS arrays, bigints exact). */
function toRowBatch(table: Table): RowBatch {
  const columns: ColumnSpec[] = table.schema.fields.map((f) => ({ name: f.name, type: String(f.type) }));
  const values = table.schema.fields.map((f) => Array.from(table.getChild(f.name)!.toArray() as ArrayLike<unknown>));
  return { columns, values, length: table.numRows };
}
