import {
  type Context,
  context,
  isSpanContextValid,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
} from '@opentelemetry/api';
import { requestContext } from './request-context.js';
import { formatTraceparent, spanContextOf } from './trace-context.js';

/** The W3C trace-context header, as gRPC metadata carries it. */
export const TRACEPARENT_HEADER = 'traceparent';

const tracer = () => trace.getTracer('overture-rpc');

function sampled(span: SpanContext): boolean {
  return (span.traceFlags & TraceFlags.SAMPLED) !== 0;
}

// `/overture.metadata.v1.MetadataService/GetTrack` → span name and `rpc.method`, as the metrics say it.
function methodOf(path: string): string {
  return path.startsWith('/') ? path.slice(1) : path;
}

function end(span: Span, statusName: string, error: string | undefined): void {
  span.setAttribute('rpc.response.status_code', statusName);
  if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
  span.end();
}

/** The recorded span of a call served in a sampled trace. */
export class RpcServerSpan {
  private readonly context: Context;
  private ended = false;

  constructor(
    private readonly span: Span,
    parent: Context,
  ) {
    this.context = trace.setSpan(parent, span);
  }

  /** Calls `fn(...args)` with this span active: the call's queries and downstream calls hang under it. */
  run<A extends unknown[], T>(fn: (...args: A) => T, ...args: A): T {
    return context.with(this.context, fn, undefined, ...args);
  }

  /** Ends the span once; `error` (a message) marks it failed. */
  end(statusName: string, error?: string): void {
    if (this.ended) return;
    this.ended = true;
    end(this.span, statusName, error);
  }
}

/**
 * The trace of a gRPC call arriving with `traceparent` (a metadata value, or undefined). When the
 * caller's trace is not sampled, no span is made here: the caller's span context is returned, for
 * the request context to carry (log lines and downstream calls keep the trace id), which costs the
 * call no OpenTelemetry work at all. A sampled trace, or a call with none (the sampler then decides
 * for a new trace), gets a SERVER span; a new trace the sampler drops returns its span context.
 */
export function serverRpcTrace(path: string, traceparent: unknown): RpcServerSpan | SpanContext {
  const caller = spanContextOf(typeof traceparent === 'string' ? traceparent : undefined);
  if (caller && !sampled(caller)) return caller;
  const parent = caller ? trace.setSpanContext(ROOT_CONTEXT, caller) : ROOT_CONTEXT;
  const method = methodOf(path);
  const span = tracer().startSpan(
    method,
    { kind: SpanKind.SERVER, attributes: { 'rpc.system.name': 'grpc', 'rpc.method': method } },
    parent,
  );
  return span.isRecording() ? new RpcServerSpan(span, parent) : span.spanContext();
}

/** What a gRPC call made now carries, and its CLIENT span when the trace is sampled. */
export interface RpcClientTrace {
  readonly traceparent: string;
  /** Ends the CLIENT span, if there is one; `error` (a message) marks it failed. */
  end(statusName: string, error?: string): void;
}

const noSpan = (): void => undefined;

/**
 * The trace a call made now continues: the active span's (a CLIENT span is started under it when
 * it is sampled), else the caller's trace the request context carries (an unsampled call served
 * without a span), else none: the server then starts a trace of its own.
 */
export function clientRpcTrace(path: string): RpcClientTrace | undefined {
  const active = context.active();
  const current = trace.getSpanContext(active);
  if (current && isSpanContextValid(current)) {
    if (!sampled(current)) return { traceparent: formatTraceparent(current), end: noSpan };
    const method = methodOf(path);
    const span = tracer().startSpan(
      method,
      { kind: SpanKind.CLIENT, attributes: { 'rpc.system.name': 'grpc', 'rpc.method': method } },
      active,
    );
    return { traceparent: formatTraceparent(span.spanContext()), end: (statusName, error) => end(span, statusName, error) };
  }
  const caller = requestContext.get()?.trace;
  return caller ? { traceparent: formatTraceparent(caller), end: noSpan } : undefined;
}
