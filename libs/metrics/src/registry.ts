import { Counter, Gauge, Registry, type CounterConfiguration, type GaugeConfiguration } from 'prom-client';

/**
 * The process's one registry: every metric of the process is in it, and the ops server's `/metrics`
 * renders it. Libraries and apps declare their metrics with the helpers below (and `fastHistogram`),
 * which return the metric already registered under that name (a module loaded twice, as in tests,
 * gets the same one).
 */
export const metricsRegistry = new Registry();

let recording = true;

/**
 * Turns off this process's request, call, runtime and pool metrics (`METRICS_ENABLED=false`), to
 * measure what telemetry costs; call it before any server or client is created.
 */
export function disableMetrics(): void {
  recording = false;
}

export function metricsEnabled(): boolean {
  return recording;
}

/**
 * Buckets (seconds) of every request and call duration. The fastest answers are cached reads well
 * under a millisecond, searches and queue edits take milliseconds to tens of them, sign-ins
 * (argon2id) about a hundred, and the slowest writes and imports take seconds up to the 15 s
 * statement timeout: so 0.5 ms to 15 s, about three buckets per decade.
 */
export const DURATION_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.3, 0.5, 1, 2.5, 5, 10, 15,
];

export function counter<L extends string>(config: CounterConfiguration<L>): Counter<L> {
  return existing(config.name) ?? new Counter({ ...config, registers: [metricsRegistry] });
}

export function gauge<L extends string>(config: GaugeConfiguration<L>): Gauge<L> {
  return existing(config.name) ?? new Gauge({ ...config, registers: [metricsRegistry] });
}

function existing<M>(name: string): M | undefined {
  return metricsRegistry.getSingleMetric(name) as M | undefined;
}
