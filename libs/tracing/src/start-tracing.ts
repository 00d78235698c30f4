import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  BatchSpanProcessor,
  NoopSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ExportProcessor } from './export-processor.js';
import { keepHttpServerSpansAfterTheFact, PrimableIdGenerator } from './http-server-span.js';
import { LegacyBridgePropagator } from './legacy-trace-propagator.js';
import { Redactor } from './redaction.js';
import { SampledPgInstrumentation } from './sampled-pg-instrumentation.js';
import { OvertureSampler } from './sampling.js';

export interface TracingOptions {
  /** `service.name` of every span this process produces. */
  serviceName: string;
  /** No tracing at all (`OTEL_SDK_DISABLED`): no SDK, no spans, log lines without trace ids. */
  disabled?: boolean;
  /** OTLP/HTTP base endpoint (e.g. `http://collector:4318`); spans are not exported without it. */
  otlpEndpoint?: string | undefined;
  /** Fraction (0 to 1) of new traces to sample; calls that arrive with a trace follow its decision. */
  samplerRatio: number;
  /**
   * Record every incoming request's server span, sampled or not, and export an unsampled one that
   * ends as an error or lasts at least this many ms (the gateway's HttpServerSpan; see OvertureSampler).
   */
  keepSlowServerSpansMs?: number | undefined;
  /** A legacy trace-id header accepted when there is no `traceparent` (e.g. `x-kugou-traceid`). */
  legacyTraceHeader?: string | undefined;
  /** Also remove client addresses from exported span attributes. */
  redactClientAddress?: boolean;
  /** Exports spans here, each as it ends, instead of batches over OTLP (tests: an in-memory exporter). */
  exporter?: SpanExporter;
}

export interface TracingHandle {
  /** Samples this fraction of new traces from now on; does nothing when tracing is disabled. */
  setSampleRatio(ratio: number): void;
  /** Exports the spans that have ended and are still waiting (a batch, or resource detection). */
  flush(): Promise<void>;
  /** Flushes pending spans and stops the SDK; safe to call more than once. */
  shutdown(): Promise<void>;
}

let started: TracingHandle | undefined;

/**
 * Starts OpenTelemetry for this process: W3C trace-context propagation (and a legacy trace header
 * when configured), parent-based trace-id-ratio sampling (OvertureSampler), and, when exporting,
 * instrumentation of the pg queries of sampled calls. Incoming HTTP requests get their spans from
 * the gateway's hooks (HttpServerSpan), not from the http, Fastify or Nest instrumentations, which
 * cost most of a trivial route's throughput (−68 % measured with http alone, −85 % with all
 * three); gRPC calls get theirs from libs/grpc (serverRpcTrace, clientRpcTrace), only in sampled
 * traces, instead of the grpc instrumentation's span per call. Spans go to `otlpEndpoint` over OTLP/HTTP (JSON) when
 * it is set, with secrets removed from their attributes (`Redactor`); without it they are still
 * created so logs carry trace ids, but nothing is exported. Metrics and logs are never exported by
 * the SDK. Call it first thing in the entry point, before the modules it instruments are loaded
 * (import the app afterwards with `await import(...)`). A second call does nothing and returns the
 * first handle.
 */
export function startTracing(options: TracingOptions): TracingHandle {
  if (started) return started;
  if (options.disabled) {
    return (started = { setSampleRatio: () => undefined, flush: () => Promise.resolve(), shutdown: () => Promise.resolve() });
  }

  const exporting = options.exporter !== undefined || options.otlpEndpoint !== undefined;
  const sampler = new OvertureSampler(options.samplerRatio, exporting && options.keepSlowServerSpansMs !== undefined);
  const processor = spanProcessorFor(options);
  const ids = new PrimableIdGenerator();
  const keepSlowMs = exporting ? options.keepSlowServerSpansMs : undefined;
  keepHttpServerSpansAfterTheFact(
    keepSlowMs === undefined ? undefined : { keepSlowMs, sampledByRatio: (traceId) => sampler.sampledByRatio(traceId), ids },
  );
  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    textMapPropagator: options.legacyTraceHeader
      ? new LegacyBridgePropagator(options.legacyTraceHeader.toLowerCase(), (traceId) => sampler.sampledByRatio(traceId))
      : new W3CTraceContextPropagator(),
    sampler,
    idGenerator: ids,
    spanProcessors: [processor],
    // Without explicit empty lists the SDK falls back to OTEL_* variables and defaults to OTLP
    // metric and log exporters aimed at localhost.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      // Query spans exist only to be exported: without an endpoint, or in an unsampled call, they
      // would cost each query a span, metrics and context bookkeeping (≈ a third of a cheap search's
      // CPU in tools/catalogue/bench.ts) for nothing. Log lines keep their trace id from the
      // enclosing gRPC or HTTP span, or the request context, either way. Queries outside a traced call (pool warm-up,
      // readiness pings) get no span.
      ...(exporting ? [new SampledPgInstrumentation()] : []),
    ],
  });
  sdk.start();

  let stopping: Promise<void> | undefined;
  started = {
    setSampleRatio: (ratio) => sampler.setRatio(ratio),
    flush: () => processor.forceFlush(),
    shutdown: () => (stopping ??= sdk.shutdown()),
  };
  return started;
}

function spanProcessorFor(options: TracingOptions): SpanProcessor {
  // A registered tracer provider still gives unexported spans real trace ids for log correlation,
  // whereas no provider at all would leave every span context invalid.
  const exporter =
    options.exporter ??
    (options.otlpEndpoint ? new OTLPTraceExporter({ url: `${options.otlpEndpoint.replace(/\/+$/, '')}/v1/traces` }) : undefined);
  if (!exporter) return new NoopSpanProcessor();
  const redactor = new Redactor({ clientAddress: options.redactClientAddress ?? false });
  const exporting = options.exporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter);
  return new ExportProcessor(exporting, redactor, { keepSlowServerSpansMs: options.keepSlowServerSpansMs });
}
