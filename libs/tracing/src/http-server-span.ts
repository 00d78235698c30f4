import {
  type Attributes,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
} from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import type { IncomingHttpHeaders } from 'node:http';

let keepSlowMs: number | undefined;

/** Set by startTracing: how slow an unsampled request must be for its span to be kept. */
export function keepSlowHttpServerSpans(ms: number | undefined): void {
  keepSlowMs = ms;
}

/**
 * The gateway's span of one HTTP request, made from Fastify's hooks instead of the http
 * instrumentation, which builds a dozen attributes of every request before sampling decides
 * anything. This one starts with a name and a parent only (the client's `traceparent`, or the
 * legacy header), and gets its attributes at the end, only when it will be exported: sampled, or
 * unsampled but a 5xx or slow (see OvertureSampler). Code run through `run` sees it as the active
 * span, so the gRPC calls made for the request carry its trace.
 */
export class HttpServerSpan {
  private readonly context: Context;

  private constructor(
    private readonly span: Span,
    parent: Context,
  ) {
    this.context = trace.setSpan(parent, span);
  }

  static start(method: string, route: string | undefined, headers: IncomingHttpHeaders): HttpServerSpan {
    const parent = propagation.extract(ROOT_CONTEXT, headers);
    const name = route === undefined ? method : `${method} ${route}`;
    return new HttpServerSpan(trace.getTracer('overture-http').startSpan(name, { kind: SpanKind.SERVER }, parent), parent);
  }

  /** Calls `fn(...args)` with this span active. */
  run<A extends unknown[], T>(fn: (...args: A) => T, ...args: A): T {
    return context.with(this.context, fn, undefined, ...args);
  }

  /**
   * Ends the span; `describe(...args)` is called for its attributes only if the span is to be
   * exported. `durationMs` is the server's own measure of the request (Fastify's), which starts
   * before the span: at worst a request just over the slow mark is described and then not kept.
   */
  end<A extends unknown[]>(status: number, durationMs: number, describe: (...args: A) => Attributes, ...args: A): void {
    const span = this.span;
    if (span.isRecording()) {
      const sampled = (span.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0;
      if (sampled || status >= 500 || (keepSlowMs !== undefined && durationMs >= keepSlowMs)) {
        span.setAttributes(describe(...args));
        span.setAttribute('http.response.status_code', status);
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      }
    }
    span.end();
  }
}
