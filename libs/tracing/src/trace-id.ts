import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import { requestContext } from './request-context.js';

/**
 * The trace id of the span active in the current async context, or of the caller's trace the
 * request context carries (a call served without a span), if there is one.
 */
export function currentTraceId(): string | undefined {
  const spanContext = trace.getSpanContext(context.active());
  if (spanContext && isSpanContextValid(spanContext)) return spanContext.traceId;
  return requestContext.get()?.trace?.traceId;
}
