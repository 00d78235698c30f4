import { InterceptingCall, status, type Interceptor, type ServerErrorResponse, type StatusObject } from '@grpc/grpc-js';
import { clientRpcTrace, RpcServerSpan, TRACEPARENT_HEADER } from '@overture/tracing';

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
 * A grpc-js client interceptor that sends the trace a call continues in `traceparent`, and records
 * the call's CLIENT span when that trace is sampled (clientRpcTrace). createGrpcClient puts it on
 * every client; it replaces OpenTelemetry's grpc instrumentation, which made a span, a context and
 * their closures for every call, sampled or not.
 */
export function clientTracing(): Interceptor {
  return (options, nextCall) => {
    const traced = clientRpcTrace(options.method_definition.path);
    if (!traced) return new InterceptingCall(nextCall(options));
    return new InterceptingCall(nextCall(options), {
      start(metadata, _listener, next) {
        metadata.set(TRACEPARENT_HEADER, traced.traceparent);
        next(metadata, {
          onReceiveStatus(outcome: StatusObject, nextStatus) {
            traced.end(statusName(outcome.code), outcome.code === status.OK ? undefined : outcome.details);
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
