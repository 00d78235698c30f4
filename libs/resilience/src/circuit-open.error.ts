import { status } from '@grpc/grpc-js';

/**
 * Thrown by a call policy without calling the dependency, because its circuit breaker is open.
 * Carries `code = UNAVAILABLE` so a gRPC or HTTP edge maps it like any other unavailable dependency.
 */
export class CircuitOpenError extends Error {
  readonly code = status.UNAVAILABLE;

  constructor(
    readonly dependency: string,
    options?: ErrorOptions,
  ) {
    super(`${dependency} is unavailable: circuit breaker open after repeated failures`, options);
    this.name = 'CircuitOpenError';
  }
}
