import type { status } from '@grpc/grpc-js';

/**
 * A downstream call that did not succeed: the gRPC status it ended with (UNAVAILABLE as well when
 * the circuit breaker refused to call), the Overture reason from the trailing metadata, if any,
 * and the service's own details. Mapped to HTTP once, by `httpErrorOf`.
 */
export class DownstreamError extends Error {
  constructor(
    /** The service's short name, e.g. `metadata`. */
    readonly service: string,
    readonly code: status,
    readonly reason: string | undefined,
    readonly details: string,
    options?: ErrorOptions,
  ) {
    super(`${service}: ${details}`, options);
    this.name = 'DownstreamError';
  }
}
