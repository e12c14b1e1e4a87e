/**
 * Every ```sql example in docs/*.md and README.md runs, verbatim, against a real `sirius serve` holding a
 * game-loop recording, over the PostgreSQL gateway (the one endpoint that takes everything the docs show:
 * several statements, SET/SHOW, comments). A failure names the file and line of the example. The one
 * placeholder the docs use where SQL must name a real process, `'<process_id>'`, is filled with the
 * recording's process.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { ROOT } from '../cli/serve-process.js';
import { startLiveDemo, type LiveDemo } from '../support/live-demo.js';

interface Example {
  where: string;
  sql: string;
}

/** the ```sql blocks of a Markdown file, each with the line its code starts on */
export function sqlExamples(file: string, text: string): Example[] {
  const out: Example[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*```sql\s*$/.test(lines[i]!)) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end]!)) end++;
    out.push({ where: `${file}:${start + 1}`, sql: lines.slice(start, end).join('\n') });
    i = end;
  }
  return out;
}

/** Grafana expands its macros (`$__timeFilter(time)`…) before the SQL reaches Sirius: such a block is a template */
const GRAFANA_MACRO = /\$__\w+/;

function allExamples(): { run: Example[]; templates: Example[] } {
  const files = [...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`), 'README.md'];
  const all = files.flatMap((f) => sqlExamples(f, readFileSync(join(ROOT, f), 'utf8')));
  return { run: all.filter((e) => !GRAFANA_MACRO.test(e.sql)), templates: all.filter((e) => GRAFANA_MACRO.test(e.sql)) };
}

describe('SQL examples in the docs', () => {
  let demo: LiveDemo;
  before(async () => {
    demo = await startLiveDemo();
  });
  after(async () => demo?.stop());

  test('the extractor finds blocks and their lines', () => {
    const found = sqlExamples('x.md', 'text\n```sql\nSELECT 1;\n```\n\n```sh\nls\n```\n  ```sql\nSELECT 2;\nSELECT 3;\n  ```\n');
    assert.deepEqual(found, [{ where: 'x.md:3', sql: 'SELECT 1;' }, { where: 'x.md:10', sql: 'SELECT 2;\nSELECT 3;' }]);
  });

  test('every ```sql example runs verbatim', async (t) => {
    const { run: examples, templates } = allExamples();
    if (templates.length > 0) t.diagnostic(`not run, Grafana templates: ${templates.map((e) => e.where).join(', ')}`);
    assert.ok(examples.length >= 15, `only ${examples.length} examples found`);
    const failures: string[] = [];
    const processId = await demoProcessId(demo.pgPort);
    for (const ex of examples) {
      // a session of its own per example: one example's SET does not change the next
      const client = new pg.Client({ host: '127.0.0.1', port: demo.pgPort, user: 'sirius', database: 'sirius' });
      await client.connect();
      try {
        await client.query(ex.sql.replaceAll(`'<process_id>'`, `'${processId}'`));
      } catch (err) {
        failures.push(`${ex.where}: ${(err as Error).message}\n    ${ex.sql.split('\n').join('\n    ')}`);
      } finally {
        await client.end();
      }
    }
    assert.equal(failures.length, 0, `${failures.length} of ${examples.length} examples fail:\n${failures.join('\n')}`);
  });
});

/** the recording's process (the demo sender makes one) */
async function demoProcessId(port: number): Promise<string> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'sirius', database: 'sirius' });
  await client.connect();
  try {
    const r = await client.query(`SELECT process_id FROM processes WHERE start_time >= now() - INTERVAL '1 day' LIMIT 1`);
    assert.equal(r.rows.length, 1, 'the demo recorded a process');
    return String(r.rows[0].process_id);
  } finally {
    await client.end();
  }
}
