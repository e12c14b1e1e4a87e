/** Perfetto export of span views: `perfettoTrace` is the public entry point. */
export { perfettoTrace, type PerfettoProcess, type PerfettoThread, type PerfettoTraceInput } from './perfetto-trace.js';
