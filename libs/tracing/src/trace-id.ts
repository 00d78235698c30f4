import { context, isSpanContextValid, trace } from '@opentelemetry/api';

/** The trace id of the span active in the current async context, if there is a valid one. */
export function currentTraceId(): string | undefined {
  const spanContext = trace.getSpanContext(context.active());
  return spanContext && isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}
