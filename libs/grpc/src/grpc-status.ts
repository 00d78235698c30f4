import { Metadata, status } from '@grpc/grpc-js';
import { DomainError, ErrorCategory } from './domain-error.js';

/** Trailing-metadata key that carries a DomainError's reason across the wire. */
export const ERROR_REASON_KEY = 'overture-error-reason';

export function grpcStatusOf(category: ErrorCategory): status {
  switch (category) {
    case ErrorCategory.InvalidArgument:
      return status.INVALID_ARGUMENT;
    case ErrorCategory.NotFound:
      return status.NOT_FOUND;
    case ErrorCategory.AlreadyExists:
      return status.ALREADY_EXISTS;
    case ErrorCategory.Aborted:
      return status.ABORTED;
    case ErrorCategory.FailedPrecondition:
      return status.FAILED_PRECONDITION;
    case ErrorCategory.Unauthenticated:
      return status.UNAUTHENTICATED;
    case ErrorCategory.PermissionDenied:
      return status.PERMISSION_DENIED;
    case ErrorCategory.ResourceExhausted:
      return status.RESOURCE_EXHAUSTED;
    case ErrorCategory.Unavailable:
      return status.UNAVAILABLE;
    case ErrorCategory.Cancelled:
      return status.CANCELLED;
    default: {
      const unhandled: never = category;
      throw new Error(`unmapped error category ${String(unhandled)}`);
    }
  }
}

/** The object grpc-js turns into a call's final status (code, message and trailing metadata). */
export interface GrpcErrorResponse {
  code: status;
  message: string;
  details: string;
  metadata: Metadata;
}

export function toGrpcError(error: DomainError): GrpcErrorResponse {
  const metadata = new Metadata();
  metadata.set(ERROR_REASON_KEY, error.reason);
  return { code: grpcStatusOf(error.category), message: error.message, details: error.message, metadata };
}

/** A caught error as seen by a gRPC client: grpc-js ServiceError shape. */
export interface GrpcCallError {
  code: status;
  details: string;
  reason: string | undefined;
}

export function isGrpcCallError(error: unknown): error is Error & { code: number; details?: string; metadata?: Metadata } {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'number';
}

/** Reads the code, details and Overture reason from an error a gRPC call failed with. */
export function readGrpcError(error: unknown): GrpcCallError | undefined {
  if (!isGrpcCallError(error)) return undefined;
  const reason = error.metadata?.get(ERROR_REASON_KEY)[0];
  return {
    code: error.code,
    details: error.details ?? error.message,
    reason: typeof reason === 'string' ? reason : undefined,
  };
}
