import type { Metadata } from '@grpc/grpc-js';
import { ServerGrpc } from '@nestjs/microservices';
import {
  acceptRequestId,
  REQUEST_ID_HEADER,
  requestContext,
  RpcServerSpan,
  serverRpcTrace,
  TRACEPARENT_HEADER,
  type RequestContext,
} from '@overture/tracing';
import { serveInSpan } from './grpc-tracing.js';

/** What the context needs of a grpc-js server call, of any streaming kind. */
interface IncomingCall {
  readonly metadata: Metadata;
  getDeadline(): Date | number;
  getPath(): string;
  once(event: string, listener: (...args: never[]) => void): unknown;
}

type ServiceMethod = (call: IncomingCall, callback?: unknown) => unknown;

/** The request context of an incoming call: its caller's request id (or a new one) and its deadline. */
function requestContextOf(call: IncomingCall): RequestContext {
  const requestId = acceptRequestId(call.metadata.get(REQUEST_ID_HEADER)[0]);
  const deadline = call.getDeadline();
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(at) ? { requestId, deadline: at } : { requestId };
}

function runInRequestContext(method: ServiceMethod, call: IncomingCall, callback?: unknown): unknown {
  const context = requestContextOf(call);
  const traced = serverRpcTrace(call.getPath(), call.metadata.get(TRACEPARENT_HEADER)[0]);
  if (traced instanceof RpcServerSpan) {
    return requestContext.run(context, serveInSpan, traced, method as (call: unknown, callback?: unknown) => unknown, call, callback);
  }
  context.trace = traced;
  return requestContext.run(context, method, call, callback);
}

/**
 * Nest's gRPC server, with every call handled inside `requestContext`: the request id the caller
 * sent in `x-request-id` metadata (a new one when it sent none, or junk), the call's deadline, and
 * its trace (`traceparent`; a SERVER span only when the trace is sampled, see serverRpcTrace).
 * Guards, handlers, exception filters and log lines all see it; downstream calls forward the id
 * and the trace and take their deadline from it (`callMetadata`, `withDeadline`, clientTelemetry),
 * and database transactions their statement timeout.
 */
export class RequestContextServerGrpc extends ServerGrpc {
  override createServiceMethod(...args: Parameters<ServerGrpc['createServiceMethod']>): ServiceMethod {
    const method = super.createServiceMethod(...args) as ServiceMethod;
    return (call, callback) => runInRequestContext(method, call, callback);
  }
}
