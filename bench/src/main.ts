/**
 * `npm run bench [-- name…]`: runs every benchmark (or those whose name contains an argument), each
 * with its peers side by side in the same run, and prints their figures. Each suite is a module in this
 * folder exporting `run()`; a suite that fails is reported and the others still run.
 */
const suites = [
  'tracing-overhead',
  'tracing-sustained',
  'tail-sampling-bytes',
  'browser-tracing',
  'span-storage',
  'ingestion-throughput',
  'otlp-ingestion',
  'etl-throughput',
  'query-vs-duckdb',
  'flight-stream',
  'web-render',
  'browser-game-bytes',
  'web-timeline',
  'hostile-clients',
  'hostile-queries',
  'pg-wire-rows',
  'key-check',
  'time-range',
  'cli-startup',
  'lake-scale',
  'scale-out',
  'trace-range',
  'perfetto-export',
] as const;

const filters = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const selected = suites.filter((s) => filters.length === 0 || filters.some((f) => s.includes(f)));
if (selected.length === 0) {
  console.error(`no benchmark matches ${filters.join(' ')}; known: ${suites.join(', ')}`);
  process.exit(2);
}

let failed = 0;
for (const name of selected) {
  console.log(`\n=== ${name} ===`);
  const started = performance.now();
  try {
    const mod = (await import(`./${name}.js`)) as { run: () => Promise<unknown> };
    const result = await mod.run();
    if (result !== undefined) console.log(formatResult(result));
  } catch (err) {
    failed++;
    console.error(`${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
  console.log(`(${name}: ${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
process.exit(failed ? 1 : 0);

function formatResult(result: unknown): string {
  if (result && typeof result === 'object' && !Array.isArray(result)) {
    return Object.entries(result as Record<string, unknown>)
      .map(([k, v]) => `  ${k.padEnd(48)} ${typeof v === 'number' ? fmt(v) : JSON.stringify(v, bigintSafe)}`)
      .join('\n');
  }
  return JSON.stringify(result, bigintSafe, 2);
}

function fmt(v: number): string {
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4);
}

function bigintSafe(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}
