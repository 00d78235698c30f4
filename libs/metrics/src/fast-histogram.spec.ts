import { describe, expect, it } from 'vitest';
import { fastHistogram, renderMetrics } from './fast-histogram.js';
import { metricsRegistry } from './registry.js';

describe('FastHistogram', () => {
  it('renders cumulative buckets, sum and count per child, as a prom-client histogram does', async () => {
    const histogram = fastHistogram({
      name: 'fast_histogram_spec_seconds',
      help: 'Spec.',
      labelNames: ['method', 'code'],
      buckets: [0.1, 1],
    });
    const ok = histogram.child('Get', 'OK');
    ok.observe(0.05);
    ok.observe(0.5);
    ok.observe(3);
    histogram.child('Get', 'NOT_FOUND').observe(0.01);
    const text = await metricsRegistry.getSingleMetricAsString('fast_histogram_spec_seconds');
    expect(text).toContain('# TYPE fast_histogram_spec_seconds histogram');
    expect(text).toContain('fast_histogram_spec_seconds_bucket{method="Get",code="OK",le="0.1"} 1');
    expect(text).toContain('fast_histogram_spec_seconds_bucket{method="Get",code="OK",le="1"} 2');
    expect(text).toContain('fast_histogram_spec_seconds_bucket{method="Get",code="OK",le="+Inf"} 3');
    expect(text).toContain('fast_histogram_spec_seconds_sum{method="Get",code="OK"} 3.55');
    expect(text).toContain('fast_histogram_spec_seconds_count{method="Get",code="NOT_FOUND"} 1');
  });

  it('renders the same text itself as through prom-client, leaving out children that observed nothing', async () => {
    const histogram = fastHistogram({
      name: 'fast_histogram_spec_render_seconds',
      help: 'Spec with a \\ and\na new line.',
      labelNames: ['method', 'code'],
      buckets: [0.001, 0.25, 15],
    });
    histogram.child('Get', 'OK').observe(0.1);
    histogram.child('Get', 'OK').observe(20);
    histogram.child('Odd "quoted" \\ method\n', 'OK').observe(0.0001);
    histogram.child('Get', 'NOT_FOUND');
    const viaRegistry = await metricsRegistry.getSingleMetricAsString('fast_histogram_spec_render_seconds');
    expect(histogram.render()).toBe(viaRegistry);
    expect(viaRegistry).not.toContain('NOT_FOUND');
    expect(viaRegistry).toContain('method="Odd \\"quoted\\" \\\\ method\\n"');
    expect(await renderMetrics()).toContain(`${viaRegistry}\n`);
  });

  it('gives the same child for the same label values, and the same histogram for the same name', () => {
    const config = { name: 'fast_histogram_spec_twice_seconds', help: 'Spec.', labelNames: ['a', 'b'], buckets: [1] };
    const histogram = fastHistogram(config);
    expect(histogram.child('x', 'y')).toBe(histogram.child('x', 'y'));
    expect(histogram.child('x', 'y')).not.toBe(histogram.child('x', 'z'));
    expect(fastHistogram(config)).toBe(histogram);
  });
});
