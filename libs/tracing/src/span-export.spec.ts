import { context, propagation, type Span, SpanKind, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { createRequire } from 'node:module';
import type pg from 'pg';
import { afterAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { SECRETS } from '../test/secrets.js';
import { HttpServerSpan } from './http-server-span.js';
import { startTracing } from './start-tracing.js';
import { currentTraceparent, inLinkedSpan, spanContextOf } from './trace-context.js';

const exporter = new InMemorySpanExporter();
// Ratio 0: no new trace is sampled by the ratio, so what is exported below is kept for a reason.
const handle = startTracing({
  serviceName: 'span-export-spec',
  samplerRatio: 0,
  exporter,
  keepSlowServerSpansMs: 1_000,
  legacyTraceHeader: 'X-Kugou-TraceId',
  redactClientAddress: true,
});
const tracer = trace.getTracer('span-export-spec');
const SAMPLED_PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const UNSAMPLED_PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00';

function under<T>(traceparent: string, fn: () => T): T {
  return context.with(propagation.extract(context.active(), { traceparent }), fn);
}

afterAll(async () => {
  await handle.shutdown();
});

function ended(span: Span): void {
  span.end();
}

describe('exported spans', () => {
  beforeEach(() => {
    exporter.reset();
  });

  it.each(Object.entries(SECRETS))('never carry the %s in attributes, events or status', async (_kind, secret) => {
    under(SAMPLED_PARENT, () => {
      const span = tracer.startSpan('POST /v1/auth/token', { kind: SpanKind.SERVER });
      span.setAttributes({
        'url.full': `http://gw/v1/auth/token?refresh_token=${SECRETS.refreshToken}&email=${encodeURIComponent(SECRETS.email)}`,
        'url.query': `access_token=${SECRETS.accessToken}`,
        'http.request.header.authorization': [`Bearer ${SECRETS.accessToken}`],
        'http.request.header.cookie': [SECRETS.cookie],
        'http.request.header.sec-websocket-protocol': [`overture.v1, bearer.${SECRETS.accessToken}`],
        'client.address': SECRETS.clientAddress,
        'network.peer.address': SECRETS.clientAddressV6,
        'user.email': SECRETS.email,
        'app.note': `password=${SECRETS.password}`,
      });
      span.recordException(new Error(`refresh token ${SECRETS.refreshToken} of ${SECRETS.email} reused from ${SECRETS.clientAddress}`));
      span.setStatus({ code: SpanStatusCode.ERROR, message: `Bearer ${SECRETS.accessToken} rejected for ${SECRETS.email}` });
      ended(span);
    });
    await handle.flush();
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    const exported = JSON.stringify(spans.map((s) => ({ a: s.attributes, e: s.events, st: s.status, n: s.name })));
    expect(exported).toContain('[redacted]');
    expect(exported).not.toContain(secret);
  });

  it('drops an unsampled span that ends well and quickly', async () => {
    under(UNSAMPLED_PARENT, () => ended(tracer.startSpan('GET /v1/tracks', { kind: SpanKind.SERVER })));
    ended(tracer.startSpan('GET /v1/tracks', { kind: SpanKind.SERVER }));
    await handle.flush();
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('keeps an unsampled server span that failed or was slow, but none of its children', async () => {
    const failed = tracer.startSpan('GET /v1/me/player', { kind: SpanKind.SERVER });
    expect(failed.isRecording()).toBe(true);
    const child = context.with(trace.setSpan(context.active(), failed), () => tracer.startSpan('grpc call', { kind: SpanKind.CLIENT }));
    expect(child.isRecording()).toBe(false);
    ended(child);
    failed.setAttribute('http.response.status_code', 503);
    ended(failed);
    ended(tracer.startSpan('GET /v1/search', { kind: SpanKind.SERVER, startTime: Date.now() - 1_500 }));
    await handle.flush();
    const kept = exporter.getFinishedSpans();
    expect(kept.map((s) => s.name)).toEqual(['GET /v1/me/player', 'GET /v1/search']);
    for (const span of kept) expect(span.spanContext().traceFlags & TraceFlags.SAMPLED).toBe(TraceFlags.SAMPLED);
  });

  it('does not record unsampled spans other than server spans', () => {
    const internal = tracer.startSpan('work');
    expect(internal.isRecording()).toBe(false);
    ended(internal);
  });
});

describe("the gateway's HTTP server span", () => {
  beforeEach(() => {
    exporter.reset();
  });

  it('continues the client trace, is active for the handler, and is described only when exported', async () => {
    const describe = vi.fn(() => ({ 'url.path': '/v1/search' }));
    const sampled = HttpServerSpan.start('GET', '/v1/search', { traceparent: SAMPLED_PARENT });
    const seen = sampled.run(() => trace.getSpanContext(context.active())?.traceId);
    expect(seen).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    sampled.end(200, 3, describe);

    HttpServerSpan.start('GET', '/v1/search', {}).end(200, 3, describe);
    expect(describe).toHaveBeenCalledTimes(1);

    HttpServerSpan.start('GET', '/v1/me', {}).end(503, 3, describe);
    await handle.flush();
    expect(exporter.getFinishedSpans().map((s) => [s.name, s.attributes['http.response.status_code']])).toEqual([
      ['GET /v1/search', 200],
      ['GET /v1/me', 503],
    ]);
    expect(describe).toHaveBeenCalledTimes(2);
  });

  it('makes a kept unsampled span at its end with the ids and duration its request already had', async () => {
    const failed = HttpServerSpan.start('GET', '/v1/me/player', { traceparent: UNSAMPLED_PARENT });
    const during = failed.run(() => {
      const child = tracer.startSpan('grpc call', { kind: SpanKind.CLIENT });
      ended(child);
      return { ...trace.getSpanContext(context.active()), childRecorded: child.isRecording() };
    });
    expect(during).toMatchObject({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', traceFlags: TraceFlags.NONE, childRecorded: false });
    const fresh = HttpServerSpan.start('GET', '/v1/search', {});
    const freshIds = fresh.run(() => trace.getSpanContext(context.active()));
    fresh.end(200, 1_200, () => ({ 'url.path': '/v1/search' }));
    failed.end(502, 3, () => ({ 'url.path': '/v1/me/player' }));
    await handle.flush();

    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => [s.name, s.spanContext().traceId, s.spanContext().spanId, s.attributes['http.response.status_code']])).toEqual([
      ['GET /v1/search', freshIds?.traceId, freshIds?.spanId, 200],
      ['GET /v1/me/player', during.traceId, during.spanId, 502],
    ]);
    const kept = spans[1];
    expect(kept?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(kept?.kind).toBe(SpanKind.SERVER);
    expect(kept?.status.code).toBe(SpanStatusCode.ERROR);
    const [seconds, nanos] = spans[0]?.duration ?? [0, 0];
    expect(seconds * 1_000 + nanos / 1e6).toBeGreaterThanOrEqual(1_150);
    expect(seconds * 1_000 + nanos / 1e6).toBeLessThan(2_000);
    // A fresh trace has no parent, though its ids were chosen before the span was made.
    expect(spans[0]?.parentSpanContext).toBeUndefined();
    expect(freshIds?.traceId).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('legacy trace header', () => {
  const extract = (headers: Record<string, string>) => trace.getSpanContext(propagation.extract(context.active(), headers));

  it.each([
    ['32 hex digits', '0AF7651916CD43DD8448EB211C80319C', '0af7651916cd43dd8448eb211c80319c'],
    ['a UUID', '0af76519-16cd-43dd-8448-eb211c80319c', '0af7651916cd43dd8448eb211c80319c'],
    ['a 64-bit id', '8448eb211c80319c', '00000000000000008448eb211c80319c'],
  ])('bridges %s to the W3C trace id, under a new parent span id', (_label, value, traceId) => {
    const bridged = extract({ 'x-kugou-traceid': value });
    expect(bridged).toMatchObject({ traceId, isRemote: true, traceFlags: TraceFlags.NONE });
    expect(bridged?.spanId).toMatch(/^[0-9a-f]{16}$/);
  });

  it('prefers a valid traceparent and ignores ids it cannot use', () => {
    expect(extract({ traceparent: SAMPLED_PARENT, 'x-kugou-traceid': '0af7651916cd43dd8448eb211c80319c' })?.traceId).toBe(
      '4bf92f3577b34da6a3ce929d0e0e4736',
    );
    for (const junk of ['', 'not-an-id', '0'.repeat(32), 'g'.repeat(32), '1'.repeat(33)]) {
      expect(extract({ 'x-kugou-traceid': junk })).toBeUndefined();
    }
  });
});

describe('linked spans and stored trace context', () => {
  beforeEach(() => {
    exporter.reset();
  });

  it('round-trips the current traceparent', () => {
    under(SAMPLED_PARENT, () => {
      tracer.startActiveSpan('play', (span) => {
        const stored = currentTraceparent();
        expect(stored).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
        expect(spanContextOf(stored)).toMatchObject({ traceId: span.spanContext().traceId, isRemote: true });
        span.end();
      });
    });
    expect(currentTraceparent()).toBeUndefined();
    expect(spanContextOf('00-xyz')).toBeUndefined();
  });

  it('samples a new span linked to a sampled trace, and records the links', async () => {
    await inLinkedSpan('deliver play events', 'producer', [SAMPLED_PARENT, undefined, 'junk'], async (span) => {
      expect(span.isRecording()).toBe(true);
    });
    await handle.flush();
    const [delivery] = exporter.getFinishedSpans();
    expect(delivery?.links.map((l) => l.context.traceId)).toEqual(['4bf92f3577b34da6a3ce929d0e0e4736']);
  });

  it('does not record a new span linked only to unsampled traces', async () => {
    await inLinkedSpan('deliver play events', 'producer', [UNSAMPLED_PARENT], async (span) => {
      expect(span.isRecording()).toBe(false);
    });
    await handle.flush();
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});

describe('pg spans', () => {
  // Loaded through require, after tracing started, as the services load it.
  const { Client } = createRequire(import.meta.url)('pg') as typeof pg;
  let client: pg.Client;

  beforeEach(async () => {
    exporter.reset();
    client ??= new Client({ connectionString: inject('postgresServerUrl') });
    if (!(client as unknown as { _connected?: boolean })._connected) await client.connect();
  });
  afterAll(async () => {
    await client?.end();
  });

  it('exist for the queries of a sampled call only', async () => {
    await context.with(propagation.extract(context.active(), { traceparent: UNSAMPLED_PARENT }), async () => {
      await tracer.startActiveSpan('unsampled call', { kind: SpanKind.SERVER }, async (span) => {
        await client.query('SELECT 1');
        span.end();
      });
    });
    await client.query('SELECT 2');
    await handle.flush();
    expect(exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT)).toEqual([]);

    await context.with(propagation.extract(context.active(), { traceparent: SAMPLED_PARENT }), async () => {
      await tracer.startActiveSpan('sampled call', { kind: SpanKind.SERVER }, async (span) => {
        await client.query('SELECT 3');
        span.end();
      });
    });
    await handle.flush();
    const queries = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
    expect(queries).toHaveLength(1);
    expect(queries[0]?.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });
});
