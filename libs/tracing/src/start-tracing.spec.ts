import { context, propagation, trace } from '@opentelemetry/api';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from './json-logger.js';
import { startTracing } from './start-tracing.js';
import { currentTraceId } from './trace-id.js';

// Ratio 0: no new trace is sampled, so every span below is unsampled unless its parent was.
const handle = startTracing({ serviceName: 'tracing-spec', samplerRatio: 0 });
const tracer = trace.getTracer('tracing-spec');

describe('startTracing', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });
  afterAll(async () => {
    await handle.shutdown();
  });

  it('returns the same handle when called again', () => {
    expect(startTracing({ serviceName: 'other', samplerRatio: 1, otlpEndpoint: 'http://127.0.0.1:1' })).toBe(handle);
  });

  it('has no trace id outside a span', () => {
    expect(currentTraceId()).toBeUndefined();
  });

  it('gives unsampled spans real trace ids, so logs correlate without exporting', () => {
    tracer.startActiveSpan('unsampled', (span) => {
      expect(span.isRecording()).toBe(false);
      expect(currentTraceId()).toMatch(/^[0-9a-f]{32}$/);
      expect(currentTraceId()).toBe(span.spanContext().traceId);
      span.end();
    });
    expect(currentTraceId()).toBeUndefined();
  });

  it('continues a W3C traceparent and follows its sampling decision', () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const incoming = propagation.extract(context.active(), {
      traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
    });
    context.with(incoming, () => {
      tracer.startActiveSpan('child', (span) => {
        expect(span.isRecording()).toBe(true);
        expect(currentTraceId()).toBe(traceId);

        const outgoing: Record<string, string> = {};
        propagation.inject(context.active(), outgoing);
        expect(outgoing.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
        span.end();
      });
    });
  });

  it('puts the active trace id on log lines', () => {
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string) => {
      written.push(chunk);
      return true;
    }) as typeof process.stdout.write);
    const logger = createLogger({ service: 'tracing-spec', level: 'info' });
    tracer.startActiveSpan('logged', (span) => {
      logger.log('inside');
      span.end();
    });
    logger.log('outside');
    const [inside, outside] = written.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(inside?.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(outside).not.toHaveProperty('trace_id');
  });
});
