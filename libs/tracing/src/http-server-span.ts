import {
  type Attributes,
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
} from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import { type IdGenerator, RandomIdGenerator } from '@opentelemetry/sdk-trace-base';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * Hands the SDK the ids a span must have when it is made after the fact: a request's span is made
 * at its end, when it is kept, and must carry the ids its log lines and downstream calls already
 * used. Unprimed, it makes random ids.
 */
export class PrimableIdGenerator implements IdGenerator {
  private readonly random = new RandomIdGenerator();
  private traceId: string | undefined;
  private spanId: string | undefined;

  generateTraceId(): string {
    const id = this.traceId ?? this.random.generateTraceId();
    this.traceId = undefined;
    return id;
  }

  generateSpanId(): string {
    const id = this.spanId ?? this.random.generateSpanId();
    this.spanId = undefined;
    return id;
  }

  /** Runs `start` (which starts one span) with the ids that span gets; ids not given are random. */
  startWith<T>(traceId: string | undefined, spanId: string | undefined, start: () => T): T {
    this.traceId = traceId;
    this.spanId = spanId;
    try {
      return start();
    } finally {
      this.traceId = undefined;
      this.spanId = undefined;
    }
  }
}

interface TailKeeping {
  /** How slow an unsampled request must be for its span to be kept (a 5xx always is). */
  keepSlowMs: number;
  /** Whether a new trace of this id is sampled (the sampler's ratio). */
  sampledByRatio(traceId: string): boolean;
  ids: PrimableIdGenerator;
}

let tailKeeping: TailKeeping | undefined;

/**
 * Set by startTracing when spans are exported and unsampled server spans may be kept: requests
 * not sampled at their start then make their span only if they end as a 5xx or slowly.
 */
export function keepHttpServerSpansAfterTheFact(keeping: TailKeeping | undefined): void {
  tailKeeping = keeping;
}

/**
 * The gateway's span of one HTTP request, made from Fastify's hooks instead of the http
 * instrumentation, which builds a dozen attributes of every request before sampling decides
 * anything. A request in a sampled trace (the client's `traceparent` or legacy header, or a new
 * trace the ratio samples) gets a real span at once. Any other gets only a trace id and span id,
 * which its log lines and gRPC calls carry, and its span is made at its end, with the same ids and
 * duration, only if it is kept: a 5xx or slow (see OvertureSampler and ExportProcessor). Code run
 * through `run` sees it as the active span either way.
 */
export class HttpServerSpan {
  private readonly context: Context;

  private constructor(
    private readonly name: string,
    private readonly parent: Context,
    /** The real span, or, for a request not sampled at its start, one carrying its ids only. */
    private readonly span: Span,
    /** Whether the request was sampled at its start, so that `span` is real. */
    private readonly made: boolean,
  ) {
    this.context = trace.setSpan(parent, span);
  }

  static start(method: string, route: string | undefined, headers: IncomingHttpHeaders): HttpServerSpan {
    const parent = propagation.extract(ROOT_CONTEXT, headers);
    const name = route === undefined ? method : `${method} ${route}`;
    const keeping = tailKeeping;
    if (!keeping) return new HttpServerSpan(name, parent, tracer().startSpan(name, { kind: SpanKind.SERVER }, parent), true);
    const caller = trace.getSpanContext(parent);
    const continued = caller !== undefined && isSpanContextValid(caller);
    const traceId = continued ? caller.traceId : keeping.ids.generateTraceId();
    const sampled = continued ? (caller.traceFlags & TraceFlags.SAMPLED) !== 0 : keeping.sampledByRatio(traceId);
    if (sampled) {
      const span = keeping.ids.startWith(continued ? undefined : traceId, undefined, () =>
        tracer().startSpan(name, { kind: SpanKind.SERVER }, parent),
      );
      return new HttpServerSpan(name, parent, span, true);
    }
    const ids: SpanContext = { traceId, spanId: keeping.ids.generateSpanId(), traceFlags: TraceFlags.NONE };
    return new HttpServerSpan(name, parent, trace.wrapSpanContext(ids), false);
  }

  /** Calls `fn(...args)` with this span active. */
  run<A extends unknown[], T>(fn: (...args: A) => T, ...args: A): T {
    return context.with(this.context, fn, undefined, ...args);
  }

  /**
   * Ends the span; `describe(...args)` is called for its attributes only if the span is to be
   * exported. `durationMs` is the server's own measure of the request (Fastify's), which starts
   * before a span made at the start: such a request just over the slow mark may be described and
   * then not kept. A span made at the end spans `durationMs`.
   */
  end<A extends unknown[]>(status: number, durationMs: number, describe: (...args: A) => Attributes, ...args: A): void {
    let span = this.span;
    if (!this.made) {
      const keeping = tailKeeping;
      if (!keeping || (status < 500 && durationMs < keeping.keepSlowMs)) return;
      const { traceId, spanId } = span.spanContext();
      // Started as long ago as the request: its duration is the one that made it worth keeping.
      const startTime = Date.now() - durationMs;
      span = keeping.ids.startWith(traceId, spanId, () => tracer().startSpan(this.name, { kind: SpanKind.SERVER, startTime }, this.parent));
    }
    if (span.isRecording()) {
      const sampled = (span.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0;
      const keepSlowMs = tailKeeping?.keepSlowMs;
      if (sampled || status >= 500 || (keepSlowMs !== undefined && durationMs >= keepSlowMs)) {
        span.setAttributes(describe(...args));
        span.setAttribute('http.response.status_code', status);
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      }
    }
    span.end();
  }
}

function tracer() {
  return trace.getTracer('overture-http');
}
