/**
 * Node runtime health, sampled every second on the main thread: event-loop delay (p50, p99, max) and
 * utilization, heap used/total, RSS and CPU usage as metrics with target `sirius.runtime`; GC pauses as
 * thread spans on a recorder of their own (the process's `gc` stream), timed by the GC entries themselves.
 * The timer is unref'd and the histogram is read and reset once per sample, so the cost is a few µs a second.
 */
import { constants, monitorEventLoopDelay, performance, PerformanceObserver, type EventLoopUtilization } from 'node:perf_hooks';
import type { Recorder } from '../../core/recorder.js';
import { BEGIN_THREAD, END_THREAD } from '../../core/records.js';

export const RUNTIME_TARGET = 'sirius.runtime';

/** span names by `PerformanceEntry.detail.kind` */
const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'gc minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'gc major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'gc incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'gc weakcb',
};

export interface RuntimeHealth {
  stop(): void;
}

/**
 * Starts sampling into `main` (metrics) and `gc` (GC spans).
 * @example const h = startRuntimeHealth(recorder, gcRecorder); … h.stop();
 */
export function startRuntimeHealth(main: Recorder, gc: Recorder, intervalMs = 1000): RuntimeHealth {
  const i = main.interner;
  const m = (name: string, unit: string): number => i.metric(name, unit, RUNTIME_TARGET);
  const d = {
    p50: m('event_loop_delay_p50', 'ms'),
    p99: m('event_loop_delay_p99', 'ms'),
    max: m('event_loop_delay_max', 'ms'),
    elu: m('event_loop_utilization', 'ratio'),
    heapUsed: m('heap_used', 'bytes'),
    heapTotal: m('heap_total', 'bytes'),
    rss: m('rss', 'bytes'),
    cpu: m('cpu_usage', 'percent'),
  };
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let elu: EventLoopUtilization = performance.eventLoopUtilization();
  let cpu = process.cpuUsage();
  let last = performance.now();

  const sample = (): void => {
    const now = performance.now();
    // the histogram is in ns; an empty one (no turn since the reset) reports nothing rather than zeros
    if (delay.count > 0) {
      main.metric(d.p50, delay.percentile(50) / 1e6, true, null);
      main.metric(d.p99, delay.percentile(99) / 1e6, true, null);
      main.metric(d.max, delay.max / 1e6, true, null);
    }
    delay.reset();
    const e = performance.eventLoopUtilization(elu);
    elu = performance.eventLoopUtilization();
    main.metric(d.elu, e.utilization, true, null);
    const mem = process.memoryUsage();
    main.metric(d.heapUsed, mem.heapUsed, false, null);
    main.metric(d.heapTotal, mem.heapTotal, false, null);
    main.metric(d.rss, mem.rss, false, null);
    const c = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    const elapsed = now - last;
    last = now;
    if (elapsed > 0) main.metric(d.cpu, ((c.user + c.system) / 1000 / elapsed) * 100, true, null);
  };
  const timer = setInterval(sample, intervalMs);
  timer.unref();

  const gi = gc.interner;
  const gcDesc = new Map<number, number>();
  const descOf = (kind: number): number => {
    let id = gcDesc.get(kind);
    if (id === undefined) gcDesc.set(kind, (id = gi.span(GC_KINDS[kind] ?? 'gc', RUNTIME_TARGET, '', 0)));
    return id;
  };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as { detail?: { kind?: number } | null }).detail?.kind ?? 0;
      const id = descOf(kind);
      gc.threadSpanAt(BEGIN_THREAD, id, entry.startTime);
      gc.threadSpanAt(END_THREAD, id, entry.startTime + entry.duration);
    }
  });
  observer.observe({ entryTypes: ['gc'] });

  return {
    stop() {
      clearInterval(timer);
      observer.disconnect();
      delay.disable();
    },
  };
}
