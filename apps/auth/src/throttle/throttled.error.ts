import type { AuthReason } from '@overture/contracts';
import { DomainError, ErrorCategory } from '@overture/grpc';

/** Refused for now; `retryAfterSeconds` goes to the client as Retry-After (see ThrottledFilter). */
export class ThrottledError extends DomainError {
  constructor(
    reason: AuthReason,
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(ErrorCategory.ResourceExhausted, reason, message);
  }
}
