import { status } from '@grpc/grpc-js';

/** The numeric gRPC status code an error carries (grpc-js `ServiceError.code`), if any. */
export function grpcCodeOf(error: unknown): status | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  // Node system errors carry string codes ('ECONNREFUSED'); only numbers are gRPC statuses.
  return typeof code === 'number' ? code : undefined;
}

// Codes that say the dependency (or the path to it) is unhealthy. Every other code is an answer
// from a working service: NOT_FOUND or INVALID_ARGUMENT must never trip a breaker.
const UNHEALTHY_CODES: ReadonlySet<status> = new Set([
  status.UNAVAILABLE,
  status.DEADLINE_EXCEEDED,
  status.INTERNAL,
  status.UNKNOWN,
  status.RESOURCE_EXHAUSTED,
]);

export function isUnhealthyCode(code: status): boolean {
  return UNHEALTHY_CODES.has(code);
}
