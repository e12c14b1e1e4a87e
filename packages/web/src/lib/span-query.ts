/**
 * Reading a thread's spans for the timeline: one query over `view_instance('thread_spans', stream)`,
 * turned into columns with times relative to the first span (ns as doubles stay exact that way) and names
 * interned once.
 */
import type { Table } from 'apache-arrow';
import { col, minTimeNs, timeColumnRelNs, numberColumn } from './arrow-columns.js';
import { lit } from './sql.js';
import type { SpanColumns } from './flame-layout.js';

export const MAX_SPANS = 1_000_000;

export function spansSql(streamId: string, limit = MAX_SPANS): string {
  return `SELECT "begin", "end", depth, name FROM view_instance('thread_spans', ${lit(streamId)}) ORDER BY "begin", depth LIMIT ${limit}`;
}

/** Columns plus the origin (ns since the epoch) the relative times count from: `origin`, else the first begin. */
export function spansFromTable(t: Table, origin?: bigint): SpanColumns & { originNs: bigint } {
  const b = col(t, 'begin');
  const originNs = origin ?? minTimeNs(b);
  const begin = timeColumnRelNs(b, originNs);
  const end = timeColumnRelNs(col(t, 'end'), originNs);
  const depthF = numberColumn(col(t, 'depth'));
  const depth = new Uint16Array(depthF.length);
  for (let i = 0; i < depthF.length; i++) depth[i] = Math.min(65535, Math.max(0, depthF[i]! | 0));
  const nameVec = col(t, 'name');
  const names: string[] = [];
  const index = new Map<string, number>();
  const name = new Int32Array(t.numRows);
  for (let i = 0; i < t.numRows; i++) {
    const n = String(nameVec?.get(i) ?? '');
    let k = index.get(n);
    if (k === undefined) {
      k = names.push(n) - 1;
      index.set(n, k);
    }
    name[i] = k;
  }
  return { count: t.numRows, begin, end, depth, name, names, originNs };
}
