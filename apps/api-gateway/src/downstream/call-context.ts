/**
 * What a downstream call carries from the client request it serves: the request id and the
 * caller's credentials (both forwarded in gRPC metadata), and the client's own deadline, if it set
 * one with `x-request-timeout-ms`.
 */
export interface CallContext {
  readonly requestId: string;
  /** The client's `Authorization` header, forwarded as is. */
  readonly authorization?: string;
  /** Epoch milliseconds by which the client wants its answer. */
  readonly clientDeadline?: number;
}
