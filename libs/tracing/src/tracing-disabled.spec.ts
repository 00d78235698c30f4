import { context, propagation, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { startTracing } from './start-tracing.js';
import { currentTraceId } from './trace-id.js';

// A file of its own: startTracing acts once per process.
const handle = startTracing({ serviceName: 'tracing-disabled-spec', samplerRatio: 1, disabled: true });

describe('startTracing with OTEL_SDK_DISABLED', () => {
  it('starts no SDK: spans are not recorded, carry no trace id, and nothing is propagated', async () => {
    const incoming = propagation.extract(context.active(), { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' });
    context.with(incoming, () => {
      trace.getTracer('spec').startActiveSpan('call', (span) => {
        expect(span.isRecording()).toBe(false);
        expect(currentTraceId()).toBeUndefined();
        const outgoing: Record<string, string> = {};
        propagation.inject(context.active(), outgoing);
        expect(outgoing).toEqual({});
        span.end();
      });
    });
    await expect(handle.shutdown()).resolves.toBeUndefined();
  });

  it('keeps the first answer when called again', () => {
    expect(startTracing({ serviceName: 'other', samplerRatio: 1 })).toBe(handle);
  });
});
