/**
 * SQL notebooks saved on the server, so a notebook is shareable by URL. Objects are written once, so every
 * save is a new version at `notebooks/<id>/<seq>-<nonce>.json` and a read takes the greatest key: two
 * concurrent saves both survive as distinct versions and the later sequence (then the greater nonce) wins,
 * the same answer on every store. A save may name the version it was edited from (`baseVersion`); if
 * another save landed since, it is refused with 409 so nobody silently loses edits.
 *
 * Mounted by the server at `/api`:
 * ```ts
 * app.route('/api', createNotebookRoutes({ objects }));
 * // GET /api/notebooks, GET /api/notebooks/:id, PUT /api/notebooks/:id
 * ```
 */
import { Hono } from 'hono';
import { randomBytes } from 'node:crypto';
import { ObjectNotFoundError, type ObjectStore } from '../lake/object-store.js';
import { HttpError } from '../ingestion/http-error.js';
import { readBody } from '../ingestion/read-body.js';
import { findUnavailable } from '../lake/unavailable.js';

export type CellView = 'table' | 'timeseries' | 'bar';
export const CELL_VIEWS: readonly CellView[] = ['table', 'timeseries', 'bar'];

export interface NotebookCell {
  id: string;
  title?: string;
  sql: string;
  view: CellView;
}

/** what a client sends */
export interface NotebookInput {
  title: string;
  cells: NotebookCell[];
  /** the time range the notebook opens with, in the web app's URL form (`now-1h`, an ISO time…) */
  range?: { from: string; to: string };
  /** the version this edit started from; a save is refused (409) when it is no longer the latest */
  baseVersion?: string | null;
}

/** what the server stores and answers */
export interface Notebook {
  id: string;
  version: string;
  title: string;
  cells: NotebookCell[];
  range?: { from: string; to: string };
  savedAt: string;
}

export interface NotebookSummary {
  id: string;
  version: string;
  title: string;
  cellCount: number;
  savedAt: string;
}

export const NOTEBOOK_LIMITS = {
  idLength: 64,
  titleLength: 200,
  cells: 200,
  sqlLength: 100_000,
  bodyBytes: 2_000_000,
} as const;

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const PREFIX = 'notebooks/';

/** A notebook body that fails validation; `reason` names the field. */
export class InvalidNotebookError extends Error {
  override readonly name = 'InvalidNotebookError';
}

export function isValidNotebookId(id: string): boolean {
  return id.length > 0 && id.length <= NOTEBOOK_LIMITS.idLength && ID_RE.test(id);
}

/** Checks an untrusted JSON body and returns a clean copy (unknown fields dropped). Throws InvalidNotebookError. */
export function parseNotebookInput(body: unknown): NotebookInput {
  const fail = (reason: string): never => {
    throw new InvalidNotebookError(reason);
  };
  if (typeof body !== 'object' || body === null || Array.isArray(body)) fail('body must be a JSON object');
  const b = body as Record<string, unknown>;
  if (typeof b.title !== 'string') fail('title must be a string');
  const title = (b.title as string).trim();
  if (title.length === 0 || title.length > NOTEBOOK_LIMITS.titleLength)
    fail(`title must be 1..${NOTEBOOK_LIMITS.titleLength} characters`);
  if (!Array.isArray(b.cells)) fail('cells must be an array');
  const rawCells = b.cells as unknown[];
  if (rawCells.length > NOTEBOOK_LIMITS.cells) fail(`at most ${NOTEBOOK_LIMITS.cells} cells`);
  const seen = new Set<string>();
  const cells = rawCells.map((c, i): NotebookCell => {
    if (typeof c !== 'object' || c === null || Array.isArray(c)) return fail(`cells[${i}] must be an object`);
    const cell = c as Record<string, unknown>;
    if (typeof cell.id !== 'string' || !isValidNotebookId(cell.id))
      fail(`cells[${i}].id must be 1..${NOTEBOOK_LIMITS.idLength} letters, digits, '-' or '_'`);
    if (seen.has(cell.id as string)) fail(`cells[${i}].id "${cell.id}" is used twice`);
    seen.add(cell.id as string);
    if (typeof cell.sql !== 'string') fail(`cells[${i}].sql must be a string`);
    if ((cell.sql as string).length > NOTEBOOK_LIMITS.sqlLength)
      fail(`cells[${i}].sql is longer than ${NOTEBOOK_LIMITS.sqlLength} characters`);
    if (!CELL_VIEWS.includes(cell.view as CellView)) fail(`cells[${i}].view must be one of ${CELL_VIEWS.join(', ')}`);
    const out: NotebookCell = { id: cell.id as string, sql: cell.sql as string, view: cell.view as CellView };
    if (cell.title !== undefined) {
      if (typeof cell.title !== 'string' || cell.title.length > NOTEBOOK_LIMITS.titleLength)
        fail(`cells[${i}].title must be a string of at most ${NOTEBOOK_LIMITS.titleLength} characters`);
      out.title = cell.title as string;
    }
    return out;
  });
  const input: NotebookInput = { title, cells };
  if (b.range !== undefined) {
    const r = b.range as Record<string, unknown> | null;
    const ok = (v: unknown) => typeof v === 'string' && v.length > 0 && v.length <= 64;
    if (typeof r !== 'object' || r === null || !ok(r.from) || !ok(r.to))
      fail('range must be { from, to } with strings of 1..64 characters');
    input.range = { from: r!.from as string, to: r!.to as string };
  }
  if (b.baseVersion !== undefined && b.baseVersion !== null) {
    if (typeof b.baseVersion !== 'string' || !/^\d{10}-[0-9a-f]{8}$/.test(b.baseVersion))
      fail('baseVersion must be a version string returned by the server, or null');
    input.baseVersion = b.baseVersion as string;
  }
  return input;
}

/** Reads and writes notebook versions in an object store; the HTTP routes below are a thin layer on this. */
export class NotebookRepository {
  constructor(private readonly objects: ObjectStore) {}

  /** the greatest version key of a notebook, or null when it has none */
  async latestVersion(id: string): Promise<string | null> {
    let best: string | null = null;
    for await (const { key } of this.objects.list(`${PREFIX}${id}/`)) {
      const v = versionOfKey(id, key);
      if (v && (best === null || v > best)) best = v;
    }
    return best;
  }

  async get(id: string): Promise<Notebook | null> {
    const version = await this.latestVersion(id);
    if (!version) return null;
    try {
      const bytes = await this.objects.get(keyOf(id, version));
      return JSON.parse(new TextDecoder().decode(bytes)) as Notebook;
    } catch (err) {
      if (err instanceof ObjectNotFoundError) return null; // deleted between list and get
      throw err;
    }
  }

  async list(): Promise<NotebookSummary[]> {
    const latest = new Map<string, string>();
    for await (const { key } of this.objects.list(PREFIX)) {
      const id = key.slice(PREFIX.length).split('/')[0] ?? '';
      const v = versionOfKey(id, key);
      if (v && (latest.get(id) ?? '') < v) latest.set(id, v);
    }
    const out: NotebookSummary[] = [];
    await Promise.all(
      [...latest].map(async ([id, version]) => {
        try {
          const nb = JSON.parse(new TextDecoder().decode(await this.objects.get(keyOf(id, version)))) as Notebook;
          out.push({ id, version, title: nb.title, cellCount: nb.cells.length, savedAt: nb.savedAt });
        } catch (err) {
          if (!(err instanceof ObjectNotFoundError)) throw err;
        }
      }),
    );
    return out.sort((a, b) => (a.savedAt < b.savedAt ? 1 : a.savedAt > b.savedAt ? -1 : a.id.localeCompare(b.id)));
  }

  /** Writes a new version. Returns `{ conflict }` when `baseVersion` is set and no longer the latest. */
  async save(id: string, input: NotebookInput): Promise<{ notebook: Notebook; created: boolean } | { conflict: string }> {
    const latest = await this.latestVersion(id);
    if (input.baseVersion !== undefined && input.baseVersion !== null && input.baseVersion !== latest)
      return { conflict: latest ?? 'none' };
    const seq = latest ? Number(latest.slice(0, 10)) + 1 : 1;
    const version = `${String(seq).padStart(10, '0')}-${randomBytes(4).toString('hex')}`;
    const notebook: Notebook = { id, version, title: input.title, cells: input.cells, savedAt: new Date().toISOString() };
    if (input.range) notebook.range = input.range;
    await this.objects.put(keyOf(id, version), new TextEncoder().encode(JSON.stringify(notebook)));
    return { notebook, created: latest === null };
  }
}

function keyOf(id: string, version: string): string {
  return `${PREFIX}${id}/${version}.json`;
}

function versionOfKey(id: string, key: string): string | null {
  const m = /^notebooks\/([^/]+)\/(\d{10}-[0-9a-f]{8})\.json$/.exec(key);
  return m && m[1] === id ? m[2]! : null;
}

/** The notebook routes, to mount under `/api`. Errors answer `{ error: reason }` with a 4xx status. */
export function createNotebookRoutes(deps: { objects: ObjectStore }): Hono {
  const repo = new NotebookRepository(deps.objects);
  const app = new Hono();

  app.get('/notebooks', async (c) => c.json({ notebooks: await repo.list() }));

  app.get('/notebooks/:id', async (c) => {
    const id = c.req.param('id');
    if (!isValidNotebookId(id)) return c.json({ error: `invalid notebook id "${id.slice(0, 80)}"` }, 400);
    const nb = await repo.get(id);
    if (!nb) return c.json({ error: `notebook "${id}" not found` }, 404);
    return c.json(nb);
  });

  app.put('/notebooks/:id', async (c) => {
    const id = c.req.param('id');
    if (!isValidNotebookId(id)) return c.json({ error: `invalid notebook id "${id.slice(0, 80)}"` }, 400);
    const type = c.req.header('content-type') ?? '';
    if (!type.toLowerCase().startsWith('application/json'))
      return c.json({ error: 'content-type must be application/json' }, 415);
    let bytes: Uint8Array;
    try {
      // capped while reading: a chunked body has no length to check first
      bytes = await readBody(c.req.raw, NOTEBOOK_LIMITS.bodyBytes);
    } catch (err) {
      // the rest of the body is never read: the connection cannot carry another request
      if (err instanceof HttpError && err.status === 413) return c.json({ error: 'notebook too large' }, 413, { Connection: 'close' });
      throw err;
    }
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch (err) {
      return c.json({ error: `body is not valid JSON: ${(err as Error).message}` }, 400);
    }
    let input: NotebookInput;
    try {
      input = parseNotebookInput(body);
    } catch (err) {
      if (err instanceof InvalidNotebookError) return c.json({ error: err.message }, 400);
      throw err;
    }
    const r = await repo.save(id, input);
    if ('conflict' in r)
      return c.json({ error: `notebook "${id}" changed since version ${input.baseVersion}`, latestVersion: r.conflict }, 409);
    return c.json(r.notebook, r.created ? 201 : 200);
  });

  app.onError((err, c) => {
    const down = findUnavailable(err);
    if (down) return c.json({ error: down.message }, 503, { 'Retry-After': String(down.retryAfterSeconds) });
    // as Hono's default: the details (paths, hosts) go to the log, not to the client
    console.error(err);
    return c.json({ error: 'internal error' }, 500);
  });

  return app;
}
