import { status } from '@grpc/grpc-js';
// The NestJS-free entry point: this util lib stays free of Nest.
import { CommonReason } from '@overture/contracts/error-reasons';

/** The numeric gRPC status code an error carries (grpc-js `ServiceError.code`), if any. */
export function grpcCodeOf(error: unknown): status | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  // Node system errors carry string codes ('ECONNREFUSED'); only numbers are gRPC statuses.
  return typeof code === 'number' ? code : undefined;
}

// The trailing-metadata key an Overture service puts its error reason under (ERROR_REASON_KEY in
// libs/grpc, which this util lib does not import: it stays free of Nest).
const REASON_KEY = 'overture-error-reason';

/** The Overture reason a gRPC error carries in its trailing metadata, if any. */
function reasonOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const metadata = (error as { metadata?: { get?: (key: string) => unknown[] } }).metadata;
  const value = typeof metadata?.get === 'function' ? metadata.get(REASON_KEY)[0] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/**
 * Whether a failed call says the service (or the path to it) is failing, as opposed to an answer
 * it gave on purpose. UNAVAILABLE and DEADLINE_EXCEEDED always count. RESOURCE_EXHAUSTED, INTERNAL
 * and UNKNOWN count only without an Overture reason (from the transport or grpc-js itself) or when
 * the reason is the service's own overload: a throttled sign-in (RESOURCE_EXHAUSTED with a reason)
 * or a handler bug one request triggers (INTERNAL with a reason) is an answer, so one client cannot
 * open a breaker for everyone. Every other code (NOT_FOUND, INVALID_ARGUMENT, ...) is an answer.
 */
export function isServiceFailure(error: unknown): boolean {
  const code = grpcCodeOf(error);
  switch (code) {
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED:
      return true;
    case status.RESOURCE_EXHAUSTED:
    case status.INTERNAL:
    case status.UNKNOWN: {
      const reason = reasonOf(error);
      return reason === undefined || reason === CommonReason.OVERLOADED;
    }
    default:
      return false;
  }
}
