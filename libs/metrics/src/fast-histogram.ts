import { metricsRegistry } from './registry.js';

// What prom-client's registry reads from a metric it renders (its own types are not exported).
interface RenderedValue {
  metricName: string;
  labels: Readonly<Record<string, string | number>>;
  value: number;
}

/** One series of a `FastHistogram`: observing is a bucket search and three additions. */
export interface HistogramChild {
  observe(value: number): void;
}

class Child implements HistogramChild {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    private readonly bounds: readonly number[],
    readonly labels: Readonly<Record<string, string>>,
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= (bounds[i] as number)) {
        this.counts[i] = (this.counts[i] as number) + 1;
        return;
      }
    }
  }
}

/**
 * A histogram for hot paths (every HTTP request, every gRPC call). prom-client's `Histogram`
 * builds, validates and hashes a label object on each observation, even through `labels()`; here a
 * caller asks once for the child of its label values (`child(...)`, cached in nested maps, no string
 * built per call) and keeps it, and an observation allocates nothing. It renders as a prom-client
 * histogram would, through the same registry.
 */
export class FastHistogram<L extends string> {
  readonly type = 'histogram';
  private readonly children: Child[] = [];
  private readonly index = new Map<string, unknown>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
    private readonly bounds: readonly number[],
  ) {}

  /** The series of these label values, in the order of `labelNames`; made on first use. */
  child(...values: string[]): HistogramChild {
    let level: Map<string, unknown> = this.index;
    const last = values.length - 1;
    for (let i = 0; i < last; i++) {
      const key = values[i] as string;
      let next = level.get(key) as Map<string, unknown> | undefined;
      if (!next) {
        next = new Map();
        level.set(key, next);
      }
      level = next;
    }
    const key = values[last] ?? '';
    let found = level.get(key) as Child | undefined;
    if (!found) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((name, i) => (labels[name] = values[i] ?? ''));
      found = new Child(this.bounds, labels);
      level.set(key, found);
      this.children.push(found);
    }
    return found;
  }

  /** What prom-client's registry renders. */
  get(): { name: string; help: string; type: 'histogram'; values: RenderedValue[]; aggregator: 'sum' } {
    const values: RenderedValue[] = [];
    for (const child of this.children) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += child.counts[i] as number;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...child.labels, le: this.bounds[i] as number }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_bucket`, labels: { ...child.labels, le: '+Inf' }, value: child.count });
      values.push({ metricName: `${this.name}_sum`, labels: child.labels, value: child.sum });
      values.push({ metricName: `${this.name}_count`, labels: child.labels, value: child.count });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' };
  }
}

/** The registered `FastHistogram` of that name, made and registered on first use. */
export function fastHistogram<L extends string>(config: {
  name: string;
  help: string;
  labelNames: readonly L[];
  buckets: readonly number[];
}): FastHistogram<L> {
  const found = metricsRegistry.getSingleMetric(config.name) as unknown as FastHistogram<L> | undefined;
  if (found) return found;
  const metric = new FastHistogram(config.name, config.help, config.labelNames, config.buckets);
  metricsRegistry.registerMetric(metric as never);
  return metric;
}
