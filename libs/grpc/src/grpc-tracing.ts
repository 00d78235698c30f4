import { InterceptingCall, status, type Interceptor, type ServerErrorResponse, type StatusObject } from '@grpc/grpc-js';
import type { HistogramChild } from '@overture/metrics';
import { clientRpcTrace, RpcServerSpan, TRACEPARENT_HEADER } from '@overture/tracing';
import { performance } from 'node:perf_hooks';
import { recordCall } from './grpc-metrics.js';

const statusName = (code: number): string => status[code] ?? String(code);

// A server's failures, as OpenTelemetry's RPC conventions count them; the rest are the caller's.
const SERVER_ERRORS = new Set<number>([
  status.UNKNOWN,
  status.DEADLINE_EXCEEDED,
  status.UNIMPLEMENTED,
  status.INTERNAL,
  status.UNAVAILABLE,
  status.DATA_LOSS,
]);

/**
 * The one client interceptor createGrpcClient puts on every client, so that a call passes through
 * one intercepting layer at most: it sends the trace the call continues in `traceparent`, records
 * the call's CLIENT span when that trace is sampled (clientRpcTrace), and, given `durations`, records
 * the call in `rpc_client_call_duration_seconds`. A call with neither a trace nor metrics goes
 * straight through. It replaces OpenTelemetry's grpc instrumentation, which made a span, a context
 * and their closures for every call, sampled or not.
 */
export function clientTelemetry(durations?: (path: string) => HistogramChild[]): Interceptor {
  return (options, nextCall) => {
    const path = options.method_definition.path;
    const traced = clientRpcTrace(path);
    // grpc-js only uses the call's interface; its type asks for the class all the same.
    if (!traced && !durations) return nextCall(options) as InterceptingCall;
    const children = durations?.(path);
    const started = children ? performance.now() : 0;
    return new InterceptingCall(nextCall(options), {
      start(metadata, _listener, next) {
        if (traced) metadata.set(TRACEPARENT_HEADER, traced.traceparent);
        next(metadata, {
          onReceiveStatus(outcome: StatusObject, nextStatus) {
            traced?.end(statusName(outcome.code), outcome.code === status.OK ? undefined : outcome.details);
            if (children) recordCall(children, outcome.code, started);
            nextStatus(outcome);
          },
        });
      },
    });
  };
}

type Callback = (error: Partial<ServerErrorResponse> | null, ...rest: unknown[]) => void;

/** What a streaming call emits as it ends, for its span. */
interface StreamEvents {
  once(event: 'finish' | 'cancelled', listener: () => void): unknown;
  once(event: 'error', listener: (error: Partial<ServerErrorResponse>) => void): unknown;
}

/**
 * Serves a call inside its sampled SERVER span: a unary call's span ends when its callback is
 * called, a streaming call's when the stream finishes, fails or is cancelled.
 */
export function serveInSpan(
  span: RpcServerSpan,
  method: (call: unknown, callback?: unknown) => unknown,
  call: StreamEvents,
  callback: unknown,
): unknown {
  const ended = (error: Partial<ServerErrorResponse> | null | undefined): void => {
    const code = error ? (error.code ?? status.UNKNOWN) : status.OK;
    span.end(statusName(code), SERVER_ERRORS.has(code) ? (error?.details ?? error?.message ?? statusName(code)) : undefined);
  };
  if (typeof callback === 'function') {
    const reply = callback as Callback;
    return span.run(method, call, (error: Partial<ServerErrorResponse> | null, ...rest: unknown[]) => {
      ended(error);
      reply(error, ...rest);
    });
  }
  call.once('finish', () => ended(null));
  call.once('error', (error) => ended(error));
  call.once('cancelled', () => span.end(statusName(status.CANCELLED)));
  return span.run(method, call, callback);
}
