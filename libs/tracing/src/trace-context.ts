import {
  type Context,
  context,
  isSpanContextValid,
  type Link,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
} from '@opentelemetry/api';

import { requestContext } from './request-context.js';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The W3C `traceparent` naming a span context. */
export function formatTraceparent(span: SpanContext): string {
  return `00-${span.traceId}-${span.spanId}-${(span.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/**
 * The context new spans continue: the active one when it holds a valid span, else the caller's
 * trace the request context carries (an unsampled call, served without a span), else the active one.
 */
export function activeTraceContext(): Context {
  const active = context.active();
  const span = trace.getSpanContext(active);
  if (span && isSpanContextValid(span)) return active;
  const caller = requestContext.get()?.trace;
  return caller ? trace.setSpanContext(active, caller) : active;
}

/**
 * The W3C `traceparent` of the trace being served now, to store with work that continues later
 * (an outbox row), or undefined outside any.
 */
export function currentTraceparent(): string | undefined {
  const span = trace.getSpanContext(activeTraceContext());
  return span && isSpanContextValid(span) ? formatTraceparent(span) : undefined;
}

/** The span context a stored `traceparent` names, or undefined when it is not a valid one. */
export function spanContextOf(traceparent: string | undefined): SpanContext | undefined {
  const [, traceId, spanId, flags] = (traceparent === undefined ? null : TRACEPARENT.exec(traceparent)) ?? [];
  if (traceId === undefined || spanId === undefined || flags === undefined) return undefined;
  const spanContext: SpanContext = {
    traceId,
    spanId,
    traceFlags: Number.parseInt(flags, 16) & TraceFlags.SAMPLED,
    isRemote: true,
  };
  return isSpanContextValid(spanContext) ? spanContext : undefined;
}

/**
 * Runs `work` in a span of its own linked to each valid `traceparent` given (the traces of the
 * plays one outbox delivery carries, say). With no sampled link and an unsampled trace the span is
 * not recorded, and costs next to nothing. The span ends, with an error status on a throw, when
 * `work` settles.
 */
export async function inLinkedSpan<T>(
  name: string,
  kind: 'producer' | 'consumer',
  traceparents: readonly (string | undefined)[],
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const links: Link[] = [];
  for (const traceparent of traceparents) {
    const linked = spanContextOf(traceparent);
    if (linked) links.push({ context: linked });
  }
  const options = { kind: kind === 'producer' ? SpanKind.PRODUCER : SpanKind.CONSUMER, links };
  return trace.getTracer('overture').startActiveSpan(name, options, activeTraceContext(), async (span) => {
    try {
      return await work(span);
    } catch (error) {
      if (span.isRecording())
        span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}
