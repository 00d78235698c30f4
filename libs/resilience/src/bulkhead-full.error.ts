import { status } from '@grpc/grpc-js';

/**
 * Thrown by a call policy without calling the dependency, because its bulkhead has no free slot
 * and no room left in its queue. Carries `code = RESOURCE_EXHAUSTED`.
 */
export class BulkheadFullError extends Error {
  readonly code = status.RESOURCE_EXHAUSTED;

  constructor(
    readonly dependency: string,
    options?: ErrorOptions,
  ) {
    super(`too many concurrent calls to ${dependency}: bulkhead and queue are full`, options);
    this.name = 'BulkheadFullError';
  }
}
