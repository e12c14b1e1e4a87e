/**
 * `@sirius/client`: run SQL against a Sirius server and get Apache Arrow tables back.
 * Browser-compatible (fetch + apache-arrow only).
 *
 * @example
 *   import { connect } from '@sirius/client';
 *   const t = await connect('http://127.0.0.1:9000').query('SELECT count(*) AS n FROM log_entries', '1h', 'now');
 */
export { connect, ARROW_STREAM } from './client.js';
export type { ConnectOptions, SiriusClient, QueryResult, QueryStats, TimeBound } from './client.js';
export { QueryError, ConnectionError } from './errors.js';
export { parseTimeArg, formatNs, TimeArgError } from './time-arg.js';
