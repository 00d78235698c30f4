import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  BatchSpanProcessor,
  NoopSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';

export interface TracingOptions {
  /** `service.name` of every span this process produces. */
  serviceName: string;
  /** OTLP/HTTP base endpoint (e.g. `http://collector:4318`); spans are not exported without it. */
  otlpEndpoint?: string;
  /** Fraction (0 to 1) of new traces to sample; calls that arrive with a trace follow its decision. */
  samplerRatio: number;
}

export interface TracingHandle {
  /** Flushes pending spans and stops the SDK; safe to call more than once. */
  shutdown(): Promise<void>;
}

let started: TracingHandle | undefined;

/**
 * Starts OpenTelemetry for this process: W3C trace-context propagation, a parent-based
 * trace-id-ratio sampler, and instrumentation of http, grpc-js and (when exporting) pg only (the
 * Fastify and Nest instrumentations cost most of a trivial route's throughput: −85 % measured with
 * them against −68 % with http alone). Spans go to `otlpEndpoint` over
 * OTLP/HTTP when it is set; without it they are still created so logs carry trace ids, but nothing
 * is exported. Metrics and logs are never exported by the SDK. Call it first thing in the entry
 * point, before the modules it instruments are loaded (import the app afterwards with `await
 * import(...)`). A second call does nothing and returns the first handle.
 */
export function startTracing(options: TracingOptions): TracingHandle {
  if (started) return started;

  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    textMapPropagator: new W3CTraceContextPropagator(),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.samplerRatio) }),
    spanProcessors: [spanProcessorFor(options.otlpEndpoint)],
    // Without explicit empty lists the SDK falls back to OTEL_* variables and defaults to OTLP
    // metric and log exporters aimed at localhost.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation(),
      new GrpcInstrumentation(),
      // Query spans exist only to be exported: without an endpoint they would cost each query a span,
      // metrics and context bookkeeping (≈ a third of a cheap search's CPU in tools/catalogue/bench.ts)
      // for nothing. Log lines keep their trace id from the enclosing gRPC or HTTP span either way.
      // Queries outside a traced call (pool warm-up, readiness pings) would each start a trace.
      ...(options.otlpEndpoint ? [new PgInstrumentation({ requireParentSpan: true })] : []),
    ],
  });
  sdk.start();

  let stopping: Promise<void> | undefined;
  started = { shutdown: () => (stopping ??= sdk.shutdown()) };
  return started;
}

function spanProcessorFor(otlpEndpoint: string | undefined): SpanProcessor {
  // A registered tracer provider still gives unexported spans real trace ids for log correlation,
  // whereas no provider at all would leave every span context invalid.
  if (!otlpEndpoint) return new NoopSpanProcessor();
  const url = `${otlpEndpoint.replace(/\/+$/, '')}/v1/traces`;
  return new BatchSpanProcessor(new OTLPTraceExporter({ url }));
}
