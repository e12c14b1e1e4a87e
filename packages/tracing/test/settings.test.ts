/** Bad settings are refused by init() with a message naming them, before anything starts. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { init } from '@sirius/tracing';

test('shutdownTimeoutMs and SIRIUS_FLUSH_TIMEOUT_MS must be positive numbers of milliseconds', () => {
  for (const bad of [0, -5, Number.NaN, Infinity]) {
    assert.throws(() => init({ shutdownTimeoutMs: bad }), /shutdownTimeoutMs must be a positive number of milliseconds/);
  }
  const saved = process.env.SIRIUS_FLUSH_TIMEOUT_MS;
  try {
    process.env.SIRIUS_FLUSH_TIMEOUT_MS = 'soon';
    assert.throws(() => init(), /SIRIUS_FLUSH_TIMEOUT_MS="soon" must be a positive number of milliseconds/);
  } finally {
    if (saved === undefined) delete process.env.SIRIUS_FLUSH_TIMEOUT_MS;
    else process.env.SIRIUS_FLUSH_TIMEOUT_MS = saved;
  }
  assert.throws(() => init({ apiKey: 42 as unknown as string }), /apiKey must be a string/);
});
