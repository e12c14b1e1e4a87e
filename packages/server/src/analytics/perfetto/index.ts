/** Perfetto export of span views: a whole trace in memory (`perfettoTrace`) or streamed piece by piece. */
export { perfettoTrace, type PerfettoThread, type PerfettoTraceInput } from './perfetto-trace.js';
export { PerfettoTraceWriter, type PerfettoProcess, type TraceWriterOptions } from './trace-writer.js';
