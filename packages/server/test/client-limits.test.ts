/**
 * The client limits of `sirius serve`: defaults, the environment, code options over both, and refusals of
 * values the servers could not use.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, DEFAULT_CLIENT_LIMITS, resolveServeConfig, SERVE_ENV_VARS } from '../src/config.js';

test('defaults apply when nothing is set', () => {
  assert.deepEqual(resolveServeConfig({}, {}).limits, DEFAULT_CLIENT_LIMITS);
});

test('the environment sets each limit; an option given in code wins', () => {
  const env = {
    SIRIUS_PG_MAX_CONNECTIONS: '100', SIRIUS_PG_MAX_CONNECTIONS_PER_ADDRESS: '5', SIRIUS_PG_AUTH_TIMEOUT_MS: '2000',
    SIRIUS_HTTP_HEADERS_TIMEOUT_MS: '3000', SIRIUS_HTTP_REQUEST_TIMEOUT_MS: '600000', SIRIUS_HTTP_MAX_CONNECTIONS: '50',
  };
  assert.deepEqual(resolveServeConfig({}, env).limits, {
    pgMaxConnections: 100, pgMaxConnectionsPerAddress: 5, pgAuthTimeoutMs: 2000,
    httpHeadersTimeoutMs: 3000, httpRequestTimeoutMs: 600_000, httpMaxConnections: 50,
  });
  assert.equal(resolveServeConfig({ limits: { pgMaxConnections: 7 } }, env).limits.pgMaxConnections, 7);
  for (const name of Object.keys(env)) assert.ok(SERVE_ENV_VARS.some(([n]) => n === name), `${name} is missing from the help`);
});

test('values the servers could not use are refused', () => {
  assert.throws(() => resolveServeConfig({}, { SIRIUS_PG_MAX_CONNECTIONS: '0' }), ConfigError);
  assert.throws(() => resolveServeConfig({}, { SIRIUS_HTTP_REQUEST_TIMEOUT_MS: '10s' }), ConfigError);
  assert.throws(() => resolveServeConfig({ limits: { pgAuthTimeoutMs: 1.5 } }, {}), ConfigError);
  // node cannot enforce a request deadline shorter than the headers deadline
  assert.throws(() => resolveServeConfig({ limits: { httpHeadersTimeoutMs: 5000, httpRequestTimeoutMs: 1000 } }, {}), /must not exceed/);
});
