import type { Metadata } from '@grpc/grpc-js';
import { ServerGrpc } from '@nestjs/microservices';
import { acceptRequestId, REQUEST_ID_HEADER, requestContext, type RequestContext } from '@overture/tracing';

/** What the context needs of a grpc-js server call, of any streaming kind. */
interface IncomingCall {
  readonly metadata: Metadata;
  getDeadline(): Date | number;
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
  return requestContext.run(requestContextOf(call), method, call, callback);
}

/**
 * Nest's gRPC server, with every call handled inside `requestContext`: the request id the caller
 * sent in `x-request-id` metadata (a new one when it sent none, or junk) and the call's deadline.
 * Guards, handlers, exception filters and log lines all see it; downstream calls forward the id
 * and take their deadline from it (`callMetadata`, `withDeadline`), and database transactions their
 * statement timeout.
 */
export class RequestContextServerGrpc extends ServerGrpc {
  override createServiceMethod(...args: Parameters<ServerGrpc['createServiceMethod']>): ServiceMethod {
    const method = super.createServiceMethod(...args) as ServiceMethod;
    return (call, callback) => runInRequestContext(method, call, callback);
  }
}
