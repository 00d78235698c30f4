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
  /** `a="x",b="y"`: its labels as exposition text, built once. */
  readonly labelText: string;

  constructor(
    private readonly bounds: readonly number[],
    readonly labels: Readonly<Record<string, string>>,
  ) {
    this.counts = new Float64Array(bounds.length);
    this.labelText = Object.entries(labels)
      .map(([name, value]) => `${name}="${escapeLabelValue(value)}"`)
      .join(',');
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
 * histogram would, through the same registry, but faster (`render`, which `renderMetrics` uses). A
 * child appears once it has observed a value: the status codes a method never answered with add
 * no series.
 */
export class FastHistogram<L extends string> {
  readonly type = 'histogram';
  private readonly children: Child[] = [];
  private readonly index = new Map<string, unknown>();
  private readonly boundTexts: readonly string[];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
    private readonly bounds: readonly number[],
  ) {
    this.boundTexts = bounds.map(String);
  }

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
      if (child.count === 0) continue;
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

  /**
   * The exposition text `get()` renders to in prom-client's registry, from label text built once
   * per child: a scrape of a process with a few hundred series stays a few milliseconds.
   */
  render(): string {
    const name = this.name;
    const lines = [`# HELP ${name} ${this.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} histogram`];
    for (const child of this.children) {
      if (child.count === 0) continue;
      const labels = child.labelText;
      const prefix = labels ? `${name}_bucket{${labels},le="` : `${name}_bucket{le="`;
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += child.counts[i] as number;
        lines.push(`${prefix}${this.boundTexts[i] as string}"} ${cumulative}`);
      }
      lines.push(`${prefix}+Inf"} ${child.count}`);
      const braced = labels ? `{${labels}}` : '';
      lines.push(`${name}_sum${braced} ${child.sum}`, `${name}_count${braced} ${child.count}`);
    }
    return lines.join('\n');
  }
}

// As the exposition format (and prom-client) escape a label value.
function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

// The registry renders one metric with this method, which its type declarations leave out.
interface RenderingRegistry {
  getMetricsAsArray(): unknown[];
  getMetricsAsString(metric: unknown): Promise<string>;
}

/** The registry's exposition text, as `metricsRegistry.metrics()` renders it, with FastHistograms rendered by their own `render`. */
export async function renderMetrics(): Promise<string> {
  const registry = metricsRegistry as unknown as RenderingRegistry;
  const parts = await Promise.all(
    registry.getMetricsAsArray().map((metric) => (metric instanceof FastHistogram ? metric.render() : registry.getMetricsAsString(metric))),
  );
  return `${parts.join('\n\n')}\n`;
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
