import { describe, expect, it } from 'vitest';
import { observeConnectionPool } from './db-pool-metrics.js';
import { disableMetrics, metricsEnabled, metricsRegistry } from './registry.js';
import { startRuntimeMetrics } from './runtime-metrics.js';

// A file of its own: the switch is per process.
describe('disableMetrics (METRICS_ENABLED=false)', () => {
  it('leaves out the runtime and pool series', async () => {
    expect(metricsEnabled()).toBe(true);
    disableMetrics();
    expect(metricsEnabled()).toBe(false);
    startRuntimeMetrics();
    observeConnectionPool('catalogue', { totalCount: 3, idleCount: 1, waitingCount: 0, options: { max: 10 } });
    const text = await metricsRegistry.metrics();
    expect(text).not.toContain('nodejs_eventloop');
    expect(text).not.toContain('v8js_memory_heap');
    expect(text).not.toContain('db_client_connection_count');
  });
});
