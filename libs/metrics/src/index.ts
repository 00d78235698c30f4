export { observeConnectionPool, type ConnectionPoolState } from './db-pool-metrics.js';
export { FastHistogram, fastHistogram, type HistogramChild } from './fast-histogram.js';
export { OpsServer, type OpsHandler } from './ops-server.js';
export { counter, DURATION_BUCKETS, gauge, metricsRegistry } from './registry.js';
export { startRuntimeMetrics } from './runtime-metrics.js';
