/**
 * Names shared by the frames API (calling thread) and the tail sampler (sender): a frame is a thread span
 * named `frame` with target `sirius.frame`, its duration the measure `frame_time` (ms) with the same target,
 * and `keepTrace(reason)` is a log line with target `sirius.keep_trace` whose message is the reason.
 */
export const FRAME_SPAN = 'frame';
export const FRAME_TARGET = 'sirius.frame';
export const FRAME_TIME_METRIC = 'frame_time';
export const FRAME_TIME_UNIT = 'ms';
export const KEEP_TRACE_TARGET = 'sirius.keep_trace';
