/**
 * The seed system's SQL functions, with its meaning, through the real engine: properties (properties_to_dict,
 * _to_array, _to_jsonb, _length), the jsonb_* family over DuckDB JSON, and sum/variance/expand over histograms,
 * including histogram functions applied straight to an aggregate.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEngine, rowsOf, type EngineFixture } from './engine-fixture.js';

const RANGE = { begin: '2024-05-01T00:00:00Z', end: '2024-05-02T00:00:00Z' };

describe("the seed system's SQL functions", () => {
  let f: EngineFixture;
  before(async () => {
    f = await startEngine({ limits: { timeoutMs: 30_000 } });
  });
  after(async () => f?.close());
  const rows = async (sql: string) => rowsOf((await f.engine.query(sql, RANGE)).table);
  const one = async (sql: string) => (await rows(sql))[0]!;
  const plain = (v: unknown) => JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? Number(x) : x)));

  test('properties: to_dict keeps the map, to_array gives {key, value} entries, to_jsonb an object, length the count', async () => {
    const r = await one(`SELECT property_get(properties_to_dict(p), 'b') AS b, properties_to_array(p) AS arr,
        properties_to_jsonb(p) AS j, properties_length(p) AS n, properties_length(NULL::MAP(VARCHAR, VARCHAR)) AS none
      FROM (SELECT MAP {'a': '1', 'b': 'two'} AS p)`);
    assert.equal(r.b, 'two');
    assert.deepEqual(plain(r.arr), [{ key: 'a', value: '1' }, { key: 'b', value: 'two' }]);
    assert.deepEqual(JSON.parse(r.j as string), { a: '1', b: 'two' });
    assert.equal(r.n, 2n);
    assert.equal(r.none, 0n);
  });

  test('jsonb_parse / jsonb_format_json / jsonb_get and the typed accessors (NULL for the wrong kind)', async () => {
    const r = await one(`WITH d AS (SELECT jsonb_parse('{"name": "bob", "age": 42, "ratio": 0.5, "tags": ["x", "y"], "a b": {"c": true}}') AS j)
      SELECT jsonb_format_json(j) AS text, jsonb_as_string(jsonb_get(j, 'name')) AS name, jsonb_as_i64(jsonb_get(j, 'age')) AS age,
             jsonb_as_f64(jsonb_get(j, 'ratio')) AS ratio, jsonb_as_f64(jsonb_get(j, 'age')) AS age_f,
             jsonb_as_i64(jsonb_get(j, 'ratio')) AS ratio_i, jsonb_as_string(jsonb_get(j, 'age')) AS age_s,
             jsonb_get(j, 'missing') AS missing, jsonb_format_json(jsonb_get(j, 'a b')) AS spaced,
             jsonb_get(jsonb_get(j, 'tags'), 'x') AS not_object
      FROM d`);
    assert.deepEqual(JSON.parse(r.text as string), { name: 'bob', age: 42, ratio: 0.5, tags: ['x', 'y'], 'a b': { c: true } });
    assert.equal(r.name, 'bob');
    assert.equal(r.age, 42n);
    assert.equal(r.ratio, 0.5);
    assert.equal(r.age_f, 42);
    assert.equal(r.ratio_i, null);
    assert.equal(r.age_s, null);
    assert.equal(r.missing, null);
    assert.equal(r.spaced, '{"c":true}');
    assert.equal(r.not_object, null);
    await assert.rejects(f.engine.query(`SELECT jsonb_parse('{not json')`, RANGE), /Malformed JSON/);
  });

  test('jsonb_object_keys, jsonb_array_length, jsonb_path_query(_first)', async () => {
    const r = await one(`WITH d AS (SELECT jsonb_parse('{"a": 1, "items": [{"n": "p"}, {"n": "q"}], "z": null}') AS j)
      SELECT jsonb_object_keys(j) AS keys, jsonb_array_length(jsonb_get(j, 'items')) AS len, jsonb_array_length(j) AS len_obj,
             jsonb_format_json(jsonb_path_query(j, '$.items[*].n')) AS all_n, jsonb_format_json(jsonb_path_query(j, '$.a')) AS one_a,
             jsonb_format_json(jsonb_path_query(j, '$.nope')) AS none, jsonb_as_string(jsonb_path_query_first(j, '$.items[*].n')) AS first_n,
             jsonb_path_query_first(j, '$.nope') AS first_none
      FROM d`);
    assert.deepEqual(plain(r.keys), ['a', 'items', 'z']);
    assert.equal(r.len, 2n);
    assert.equal(r.len_obj, null);
    assert.equal(r.all_n, '["p","q"]');
    assert.equal(r.one_a, '[1]');
    assert.equal(r.none, '[]');
    assert.equal(r.first_n, 'p');
    assert.equal(r.first_none, null);
  });

  test('sum_from_histogram and variance_from_histogram (sample variance) match DuckDB on the raw values', async () => {
    const r = await one(`SELECT sum_from_histogram(make_histogram(0, 100, 10, x)) AS s, variance_from_histogram(make_histogram(0, 100, 10, x)) AS v,
        sum(x)::DOUBLE AS s_raw, var_samp(x) AS v_raw
      FROM range(100) t(x)`);
    const single = await one(`SELECT variance_from_histogram(make_histogram(0, 100, 10, x)) AS v_one FROM range(1) t(x)`);
    assert.equal(r.s, r.s_raw);
    assert.ok(Math.abs((r.v as number) - (r.v_raw as number)) < 1e-9, `${r.v} vs ${r.v_raw}`);
    assert.equal(single.v_one, null, 'no sample variance of one value');
  });

  test('quantile_from_histogram works on an aggregate directly (make_histogram, sum_histograms)', async () => {
    const r = await one(`SELECT quantile_from_histogram(make_histogram(0, 100, 10, x), 0.5) AS q FROM range(100) t(x)`);
    assert.equal(r.q, 50);
    const merged = await one(`WITH parts AS (SELECT x % 4 AS g, make_histogram(0, 100, 10, x) AS h FROM range(100) t(x) GROUP BY g)
      SELECT quantile_from_histogram(sum_histograms(h), 0.95) AS q95, count_from_histogram(sum_histograms(h)) AS n FROM parts`);
    assert.equal(merged.q95, 95);
    assert.equal(merged.n, 100n);
  });

  test('expand_histogram gives one row per bin: its center and count', async () => {
    const r = await rows(`SELECT bin_center, count FROM expand_histogram((SELECT make_histogram(0, 100, 4, x) FROM range(100) t(x) WHERE x < 60)) ORDER BY bin_center`);
    assert.deepEqual(plain(r), [
      { bin_center: 12.5, count: 25 },
      { bin_center: 37.5, count: 25 },
      { bin_center: 62.5, count: 10 },
      { bin_center: 87.5, count: 0 },
    ]);
  });
});
