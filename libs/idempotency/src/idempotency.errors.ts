import { CommonReason } from '@overture/contracts';
import { DomainError, ErrorCategory } from '@overture/grpc';

// The errors of a keyed write, one factory per reason (CommonErrorReason in
// proto/overture/common/v1/errors.proto): every service that honours idempotency keys sends them.

export const idempotencyKeyInUse = (): DomainError =>
  new DomainError(
    ErrorCategory.Aborted,
    CommonReason.IDEMPOTENCY_KEY_IN_USE,
    'a request with this Idempotency-Key is still being processed; retry once it has been answered',
  );

export const idempotencyKeyReused = (): DomainError =>
  new DomainError(
    ErrorCategory.InvalidArgument,
    CommonReason.IDEMPOTENCY_KEY_REUSED,
    'this Idempotency-Key was used for a different request; send a new key with a new request',
  );
