/**
 * What kind of failure a domain error is. Each transport maps these once, exhaustively:
 * services to gRPC status codes, the gateway (via those codes) to HTTP statuses.
 */
export enum ErrorCategory {
  InvalidArgument = 'INVALID_ARGUMENT',
  NotFound = 'NOT_FOUND',
  AlreadyExists = 'ALREADY_EXISTS',
  /** A concurrency conflict, e.g. an expected version that is no longer current. */
  Aborted = 'ABORTED',
  /** The request is valid but the state does not allow it (e.g. no next track). */
  FailedPrecondition = 'FAILED_PRECONDITION',
  Unauthenticated = 'UNAUTHENTICATED',
  PermissionDenied = 'PERMISSION_DENIED',
  ResourceExhausted = 'RESOURCE_EXHAUSTED',
  Unavailable = 'UNAVAILABLE',
  /** The caller has gone: it cancelled the call, or its deadline passed. Nobody reads the answer. */
  Cancelled = 'CANCELLED',
}

/**
 * An expected failure with a stable, machine-readable `reason` that clients may branch on, and a
 * message for humans. Every reason is listed in the contract (`proto/overture/<domain>/v1/errors.proto`)
 * and taken from its derived constants (e.g. `MetadataReason.TRACK_NOT_FOUND`), never spelled out.
 */
export class DomainError extends Error {
  constructor(
    readonly category: ErrorCategory,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
