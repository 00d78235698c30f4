import { type Attributes, type Context, SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Redactor } from './redaction.js';

export interface ExportRules {
  /**
   * Keep a recorded but unsampled server span (see OvertureSampler) that ends as an error (status
   * ERROR, or an HTTP status of 500 or more) or lasts at least this long. Unset: unsampled spans are
   * never exported.
   */
  keepSlowServerSpansMs?: number;
}

/**
 * Sits in front of the exporting processor: passes sampled spans, and the unsampled server spans
 * `rules` keep (marked sampled on their way out), after removing secrets from their attributes,
 * event attributes and status message with `redactor`. Unsampled spans cost nothing more here.
 */
export class ExportProcessor implements SpanProcessor {
  constructor(
    private readonly exporting: SpanProcessor,
    private readonly redactor: Redactor,
    private readonly rules: ExportRules,
  ) {}

  onStart(_span: Span, _parentContext: Context): void {
    // Nothing to do until the span ends.
  }

  onEnd(span: ReadableSpan): void {
    const sampled = (span.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0;
    if (!sampled && !this.keeps(span)) return;
    redactSpan(span, this.redactor);
    this.exporting.onEnd(sampled ? span : asSampled(span));
  }

  forceFlush(): Promise<void> {
    return this.exporting.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.exporting.shutdown();
  }

  private keeps(span: ReadableSpan): boolean {
    const slowMs = this.rules.keepSlowServerSpansMs;
    if (slowMs === undefined || span.kind !== SpanKind.SERVER) return false;
    if (span.status.code === SpanStatusCode.ERROR) return true;
    const httpStatus = span.attributes['http.response.status_code'] ?? span.attributes['http.status_code'];
    if (typeof httpStatus === 'number' && httpStatus >= 500) return true;
    const [seconds, nanos] = span.duration;
    return seconds * 1_000 + nanos / 1e6 >= slowMs;
  }
}

// The span as the exporter should see it: the same span, flagged sampled.
function asSampled(span: ReadableSpan): ReadableSpan {
  const spanContext = { ...span.spanContext(), traceFlags: span.spanContext().traceFlags | TraceFlags.SAMPLED };
  return Object.create(span, { spanContext: { value: () => spanContext } }) as ReadableSpan;
}

// An ended span is no longer written to; its attribute objects can be cleaned in place.
function redactSpan(span: ReadableSpan, redactor: Redactor): void {
  redactAttributes(span.attributes, redactor);
  for (const event of span.events) if (event.attributes) redactAttributes(event.attributes, redactor);
  for (const link of span.links) if (link.attributes) redactAttributes(link.attributes, redactor);
  const status = span.status as { message?: string };
  if (status.message) status.message = redactor.text(status.message);
}

function redactAttributes(attributes: Attributes, redactor: Redactor): void {
  const writable = attributes as Record<string, unknown>;
  for (const key of Object.keys(writable)) writable[key] = redactor.field(key, writable[key]);
}
