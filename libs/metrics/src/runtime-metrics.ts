import { constants, monitorEventLoopDelay, performance, PerformanceObserver, type EventLoopUtilization } from 'node:perf_hooks';
import v8 from 'node:v8';
import { fastHistogram } from './fast-histogram.js';
import { counter, gauge, metricsEnabled } from './registry.js';

const NS_PER_SECOND = 1e9;

// Minor collections take a fraction of a millisecond, full ones tens to hundreds of them.
const GC_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

const GC_TYPES: Readonly<Record<number, string>> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

let started = false;

/**
 * The process's saturation signals, under OpenTelemetry's names: event-loop delay (percentiles of
 * the delays sampled since the previous scrape) and utilisation (since the previous scrape), V8 heap
 * per space, GC pauses by type, CPU time and resident memory. Everything but the GC histogram is read
 * at scrape time; the GC observer records one entry per collection. Once per process.
 */
export function startRuntimeMetrics(): void {
  if (started || !metricsEnabled()) return;
  started = true;

  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const percentile = (name: string, help: string, read: () => number): void => {
    gauge({
      name,
      help,
      collect() {
        this.set(read());
      },
    });
  };
  // p50 is collected first and p99 and max after it; max resets the window for the next scrape.
  percentile(
    'nodejs_eventloop_delay_p50_seconds',
    'Event-loop delay, median since the previous scrape.',
    () => delay.percentile(50) / NS_PER_SECOND,
  );
  percentile(
    'nodejs_eventloop_delay_p99_seconds',
    'Event-loop delay, 99th percentile since the previous scrape.',
    () => delay.percentile(99) / NS_PER_SECOND,
  );
  percentile('nodejs_eventloop_delay_max_seconds', 'Event-loop delay, largest since the previous scrape.', () => {
    const max = delay.max / NS_PER_SECOND;
    delay.reset();
    return max;
  });

  let lastUtilization: EventLoopUtilization = performance.eventLoopUtilization();
  gauge({
    name: 'nodejs_eventloop_utilization_ratio',
    help: 'Share of time the event loop was busy since the previous scrape (0..1).',
    collect() {
      const now = performance.eventLoopUtilization();
      this.set(performance.eventLoopUtilization(now, lastUtilization).utilization);
      lastUtilization = now;
    },
  });

  gauge({
    name: 'v8js_memory_heap_used_bytes',
    help: 'V8 heap memory used, per heap space.',
    labelNames: ['v8js_heap_space_name'],
    collect() {
      for (const space of v8.getHeapSpaceStatistics()) this.set({ v8js_heap_space_name: space.space_name }, space.space_used_size);
    },
  });
  gauge({
    name: 'v8js_memory_heap_limit_bytes',
    help: 'V8 heap memory reserved (total size), per heap space.',
    labelNames: ['v8js_heap_space_name'],
    collect() {
      for (const space of v8.getHeapSpaceStatistics()) this.set({ v8js_heap_space_name: space.space_name }, space.space_size);
    },
  });

  const gc = fastHistogram({
    name: 'v8js_gc_duration_seconds',
    help: 'Garbage-collection pauses, by type (major, minor, incremental, weakcb).',
    labelNames: ['v8js_gc_type'],
    buckets: GC_BUCKETS,
  });
  const gcChildren = new Map(Object.entries(GC_TYPES).map(([kind, type]) => [Number(kind), gc.child(type)]));
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      if (kind !== undefined) gcChildren.get(kind)?.observe(entry.duration / 1_000);
    }
  }).observe({ entryTypes: ['gc'] });

  let lastCpuMicros = 0;
  counter({
    name: 'process_cpu_seconds_total',
    help: 'User and system CPU time spent by the process.',
    collect() {
      const { user, system } = process.cpuUsage();
      this.inc(Math.max(0, (user + system - lastCpuMicros) / 1e6));
      lastCpuMicros = user + system;
    },
  });
  gauge({
    name: 'process_resident_memory_bytes',
    help: 'Resident memory of the process.',
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  const startSeconds = Math.round(performance.timeOrigin / 1_000);
  gauge({ name: 'process_start_time_seconds', help: 'When the process started, in seconds since the Unix epoch.' }).set(startSeconds);
}
