export { observeConnectionPool, type ConnectionPoolState } from './db-pool-metrics.js';
export { FastHistogram, fastHistogram, renderMetrics, type HistogramChild } from './fast-histogram.js';
export { liveConfigMetrics, type LiveConfigSource } from './live-config-metrics.js';
export { OpsServer, type OpsHandler } from './ops-server.js';
export { counter, disableMetrics, DURATION_BUCKETS, gauge, metricsEnabled, metricsRegistry } from './registry.js';
export { startRuntimeMetrics } from './runtime-metrics.js';
