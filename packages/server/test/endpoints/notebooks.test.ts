import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { createNotebookRoutes, parseNotebookInput, InvalidNotebookError } from '../../src/endpoints/notebooks.js';
import { createMemoryObjectStore } from '../../src/lake/memory-object-store.js';
import { createFileObjectStore } from '../../src/lake/file-object-store.js';
import type { ObjectStore } from '../../src/lake/object-store.js';

const stores: { name: string; open(): Promise<{ store: ObjectStore; done(): Promise<void> }> }[] = [
  { name: 'memory', open: async () => ({ store: createMemoryObjectStore(), done: async () => {} }) },
  {
    name: 'file',
    async open() {
      const dir = await mkdtemp(join(tmpdir(), 'sirius-nb-'));
      return { store: createFileObjectStore(dir), done: () => rm(dir, { recursive: true, force: true }) };
    },
  },
];

function appOn(store: ObjectStore) {
  const app = new Hono();
  app.route('/api', createNotebookRoutes({ objects: store }));
  return app;
}

const put = (app: Hono, id: string, body: unknown, type = 'application/json') =>
  app.request(`/api/notebooks/${id}`, {
    method: 'PUT',
    headers: { 'content-type': type },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

const sample = {
  title: 'Errors by target',
  cells: [{ id: 'c1', sql: 'SELECT target, count(*) FROM log_entries GROUP BY 1', view: 'bar' }],
  range: { from: 'now-1h', to: 'now' },
};

for (const s of stores) {
  test(`${s.name}: save, read back, list, new versions are written beside the old`, async () => {
    const { store, done } = await s.open();
    try {
      const app = appOn(store);
      const r1 = await put(app, 'errs', sample);
      assert.equal(r1.status, 201);
      const v1 = (await r1.json()) as { version: string; id: string };
      assert.equal(v1.id, 'errs');
      const got = (await (await app.request('/api/notebooks/errs')).json()) as typeof sample & { version: string };
      assert.equal(got.title, 'Errors by target');
      assert.deepEqual(got.cells, sample.cells);
      assert.deepEqual(got.range, sample.range);
      assert.equal(got.version, v1.version);

      const r2 = await put(app, 'errs', { ...sample, title: 'Renamed', baseVersion: v1.version });
      assert.equal(r2.status, 200);
      const v2 = (await r2.json()) as { version: string };
      assert.ok(v2.version > v1.version);
      const latest = (await (await app.request('/api/notebooks/errs')).json()) as { title: string };
      assert.equal(latest.title, 'Renamed');
      const keys: string[] = [];
      for await (const o of store.list('notebooks/errs/')) keys.push(o.key);
      assert.equal(keys.length, 2, 'both versions kept (write-once)');

      await put(app, 'other', { title: 'Other', cells: [] });
      const list = (await (await app.request('/api/notebooks')).json()) as { notebooks: { id: string; title: string; cellCount: number }[] };
      assert.deepEqual(
        list.notebooks.map((n) => [n.id, n.title, n.cellCount]).sort(),
        [
          ['errs', 'Renamed', 1],
          ['other', 'Other', 0],
        ],
      );
    } finally {
      await done();
    }
  });

  test(`${s.name}: a stale baseVersion is refused with 409`, async () => {
    const { store, done } = await s.open();
    try {
      const app = appOn(store);
      const v1 = ((await (await put(app, 'nb', sample)).json()) as { version: string }).version;
      assert.equal((await put(app, 'nb', { ...sample, baseVersion: v1 })).status, 200);
      const stale = await put(app, 'nb', { ...sample, title: 'lost?', baseVersion: v1 });
      assert.equal(stale.status, 409);
      assert.match(((await stale.json()) as { error: string }).error, /changed since/);
      const latest = (await (await app.request('/api/notebooks/nb')).json()) as { title: string };
      assert.equal(latest.title, sample.title);
    } finally {
      await done();
    }
  });
}

test('missing and invalid ids, bad bodies get 4xx with a reason', async () => {
  const app = appOn(createMemoryObjectStore());
  const missing = await app.request('/api/notebooks/nope');
  assert.equal(missing.status, 404);
  assert.match(((await missing.json()) as { error: string }).error, /not found/);
  assert.equal((await app.request('/api/notebooks/bad%20id')).status, 400);
  assert.equal((await put(app, 'x', sample, 'text/plain')).status, 415);
  const notJson = await put(app, 'x', '{nope');
  assert.equal(notJson.status, 400);
  assert.match(((await notJson.json()) as { error: string }).error, /not valid JSON/);
  const badView = await put(app, 'x', { title: 't', cells: [{ id: 'a', sql: 'select 1', view: 'pie' }] });
  assert.equal(badView.status, 400);
  assert.match(((await badView.json()) as { error: string }).error, /cells\[0\]\.view/);
  assert.equal((await app.request('/api/notebooks/x')).status, 404, 'nothing written by refused saves');
});

test('parseNotebookInput names the failing field', () => {
  const cases: [unknown, RegExp][] = [
    [null, /JSON object/],
    [{ cells: [] }, /title/],
    [{ title: '   ', cells: [] }, /title must be 1\.\./],
    [{ title: 't' }, /cells must be an array/],
    [{ title: 't', cells: [{ id: 'a', sql: 1, view: 'table' }] }, /cells\[0\]\.sql/],
    [{ title: 't', cells: [{ id: 'a', sql: '', view: 'table' }, { id: 'a', sql: '', view: 'table' }] }, /used twice/],
    [{ title: 't', cells: [{ id: '../x', sql: '', view: 'table' }] }, /cells\[0\]\.id/],
    [{ title: 't', cells: [], range: { from: 'now-1h' } }, /range/],
    [{ title: 't', cells: [], baseVersion: 'v1' }, /baseVersion/],
  ];
  for (const [body, re] of cases) {
    assert.throws(() => parseNotebookInput(body), (e: unknown) => e instanceof InvalidNotebookError && re.test(e.message));
  }
  const clean = parseNotebookInput({ title: ' t ', cells: [{ id: 'a', sql: 's', view: 'table', extra: 1 }], junk: 2 });
  assert.deepEqual(clean, { title: 't', cells: [{ id: 'a', sql: 's', view: 'table' }] });
});
