import {
  type Context,
  isValidTraceId,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  trace,
  TraceFlags,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { randomBytes } from 'node:crypto';

/** The trace id a legacy header value stands for, or undefined when it cannot be one. */
export function legacyTraceId(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const id = value.trim().toLowerCase();
  // 32 hex digits, or a UUID (the same 128 bits with dashes): the trace id as it is.
  const hex = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id) ? id.replaceAll('-', '') : id;
  // A 64-bit id (16 hex digits) is left-padded with zeros, as Zipkin and Jaeger ids are.
  const traceId = /^[0-9a-f]{16}$/.test(hex) ? hex.padStart(32, '0') : hex;
  return /^[0-9a-f]{32}$/.test(traceId) && isValidTraceId(traceId) ? traceId : undefined;
}

/**
 * W3C trace context, plus a legacy trace header read when a request carries no valid
 * `traceparent`: its id becomes the trace id (see legacyTraceId), under a new random parent span
 * id, sampled when `sampled(traceId)` says so (the ratio's decision for that id). Outgoing calls
 * carry `traceparent` only.
 */
export class LegacyBridgePropagator implements TextMapPropagator {
  private readonly w3c = new W3CTraceContextPropagator();

  constructor(
    private readonly header: string,
    private readonly sampled: (traceId: string) => boolean,
  ) {}

  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    this.w3c.inject(context, carrier, setter);
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    const extracted = this.w3c.extract(context, carrier, getter);
    if (trace.getSpanContext(extracted)) return extracted;
    const raw = getter.get(carrier, this.header);
    const traceId = legacyTraceId(Array.isArray(raw) ? raw[0] : raw);
    if (!traceId) return extracted;
    return trace.setSpanContext(context, {
      traceId,
      spanId: randomBytes(8).toString('hex'),
      traceFlags: this.sampled(traceId) ? TraceFlags.SAMPLED : TraceFlags.NONE,
      isRemote: true,
    });
  }

  fields(): string[] {
    return [...this.w3c.fields(), this.header];
  }
}
