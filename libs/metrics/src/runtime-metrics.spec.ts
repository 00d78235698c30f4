import { describe, expect, it } from 'vitest';
import { metricsRegistry } from './registry.js';
import { startRuntimeMetrics } from './runtime-metrics.js';

describe('startRuntimeMetrics', () => {
  it('exports the event loop, heap, GC and process series under their OpenTelemetry names', async () => {
    startRuntimeMetrics();
    startRuntimeMetrics();
    const text = await metricsRegistry.metrics();
    for (const name of [
      'nodejs_eventloop_delay_p50_seconds',
      'nodejs_eventloop_delay_p99_seconds',
      'nodejs_eventloop_delay_max_seconds',
      'nodejs_eventloop_utilization_ratio',
      'v8js_gc_duration_seconds',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toMatch(/^v8js_memory_heap_used_bytes\{v8js_heap_space_name="new_space"\} \d+/m);
    const utilization = Number(/^nodejs_eventloop_utilization_ratio (\S+)$/m.exec(text)?.[1]);
    expect(utilization).toBeGreaterThanOrEqual(0);
    expect(utilization).toBeLessThanOrEqual(1);
  });
});
