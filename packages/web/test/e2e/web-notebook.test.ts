/**
 * The SQL notebook end to end against a real server fed by the scripted run: a cell shows the right rows,
 * an invalid query shows the engine's error next to the cell, a saved notebook opens again from its URL
 * without running anything until asked (or, on a reload, only the SQL this tab already ran).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { screenshot, until, takeExpectedError, useFedApp, BROWSER_SKIP } from './support.js';
import { EXPECTED, SCRIPT } from './scripted-run.js';

describe('SQL notebook in Chromium', { skip: BROWSER_SKIP }, () => {
  const app = useFedApp();
  const open = app.open;

  async function typeSql(page: Page, cell: number, text: string) {
    const editor = page.locator('[data-testid=cell] .cm-content').nth(cell);
    await editor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(text);
    await until(`cell ${cell} holds the typed SQL`, async () => ((await editor.innerText()).replace(/\s+/g, ' ').trim() === text ? true : undefined), 5000);
  }

  test('notebook: a cell shows the right rows, an invalid query shows its error, saving shares it', async () => {
    const page = await open('/notebooks/e2e-notebook?new=1');
    const cells = page.locator('[data-testid=cell]');
    await until('starter cells', async () => ((await cells.count()) >= 2 ? true : undefined));
    await typeSql(page, 0, `SELECT level, count(*) AS n FROM log_entries WHERE process_id = '${app.pid}' GROUP BY level ORDER BY level`);
    await cells.nth(0).locator('[data-testid=cell-view]').selectOption('table');
    assert.match(await cells.nth(0).locator('.cm-content').innerText(), /GROUP BY level ORDER BY level/);
    await cells.nth(0).locator('[data-testid=cell-run]').click();
    const table = cells.nth(0).locator('[data-testid=cell-table]');
    const expected = [['2', String(EXPECTED.error)], ['3', String(EXPECTED.warn)], ['4', String(EXPECTED.info)]];
    // the starter query's result may still be on screen: wait for ours
    await until('result rows', async () => {
      const rows = (await table.locator('tbody tr').allInnerTexts()).map((r) => r.split('\t').map((c) => c.trim()));
      return JSON.stringify(rows) === JSON.stringify(expected) ? true : undefined;
    });

    await typeSql(page, 1, 'SELECT count(*) FROM log_entries WHERE levle = 2');
    await cells.nth(1).locator('[data-testid=cell-run]').click();
    const err = cells.nth(1).locator('[data-testid=cell-error]');
    await err.waitFor();
    assert.match(await err.innerText(), /levle/);
    assert.ok(takeExpectedError(app.errors, /status of 400/), 'the invalid query was answered 400');
    await screenshot(page, 'notebook');

    const listed = await fetch(`${app.fed.url}/api/notebooks`);
    if (listed.status === 404) {
      console.log('# notebook save not checked: the server does not mount the notebook routes yet');
    } else {
      await page.click('[data-testid=save-notebook]');
      await until('saved', async () => ((await page.locator('[data-testid=notebook-status]').innerText()) === 'Saved' ? true : undefined));
      const saved = (await (await fetch(`${app.fed.url}/api/notebooks/e2e-notebook`)).json()) as { cells: { sql: string }[] };
      assert.match(saved.cells[0]!.sql, /GROUP BY level/);
      const again = await open('/notebooks/e2e-notebook');
      await again.locator('[data-testid=cell] .cm-content').first().getByText('GROUP BY level', { exact: false }).waitFor();
      // a new tab has run nothing of this notebook, so opening it runs no cell: a link runs no SQL by itself
      const reopened = again.locator('[data-testid=cell]');
      const n = await reopened.count();
      assert.equal(await reopened.locator('[data-testid=cell-not-run]').count(), n);
      assert.deepEqual(await reopened.locator('[data-testid=cell-meta]').allInnerTexts(), new Array(n).fill(''));
      // Run all runs every cell, the invalid one included: its error shows, and so does its 400
      await again.click('[data-testid=run-all]');
      await reopened.nth(1).locator('[data-testid=cell-error]').waitFor();
      await until('the invalid cell’s 400 after Run all', async () => (takeExpectedError(app.errors, /status of 400/) ? true : undefined));
      // reloading this tab runs again what it ran, with the same SQL
      await again.reload();
      await reopened.nth(1).locator('[data-testid=cell-error]').waitFor();
      await until('the invalid cell’s 400 after the reload', async () => (takeExpectedError(app.errors, /status of 400/) ? true : undefined));
      // someone else changes the second cell: this tab never ran that SQL, so it waits for its Run button
      const latest = (await (await fetch(`${app.fed.url}/api/notebooks/e2e-notebook`)).json()) as { version: string; title: string; cells: { sql: string }[] };
      const cellsChanged = latest.cells.map((c, i) => (i === 1 ? { ...c, sql: 'SELECT 42 AS changed' } : c));
      const put = await fetch(`${app.fed.url}/api/notebooks/e2e-notebook`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: latest.title, cells: cellsChanged, baseVersion: latest.version }),
      });
      assert.equal(put.status, 200);
      await again.reload();
      await reopened.nth(1).locator('.cm-content').getByText('SELECT 42 AS changed').waitFor();
      await until('the unchanged first cell ran', async () => (/rows? ·/.test(await reopened.nth(0).locator('[data-testid=cell-meta]').innerText()) ? true : undefined));
      assert.equal(await reopened.nth(1).locator('[data-testid=cell-not-run]').count(), 1);
      assert.equal(await reopened.nth(1).locator('[data-testid=cell-meta]').innerText(), '');
      await again.close();
      const list = await open('/notebooks');
      await list.locator('[data-testid=notebook-list] a[href^="/notebooks/e2e-notebook"]').waitFor();
      await list.close();
    }
    await page.close();
  });

  test('no console errors in the notebook', () => {
    assert.deepEqual(app.errors, []);
  });
});
