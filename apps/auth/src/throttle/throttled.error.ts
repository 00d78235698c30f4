import { DomainError, ErrorCategory } from '@overture/grpc';

/** Refused for now; `retryAfterSeconds` goes to the client as Retry-After (see ThrottledFilter). */
export class ThrottledError extends DomainError {
  constructor(
    reason: string,
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(ErrorCategory.ResourceExhausted, reason, message);
  }
}
