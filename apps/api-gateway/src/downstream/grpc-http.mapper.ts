import { status } from '@grpc/grpc-js';
import { CommonReason, GatewayReason } from '@overture/contracts';
import { ApiError } from '../http/api-error.js';
import type { DownstreamError } from './downstream-error.js';
import { internalError } from '../http/gateway.errors.js';

// A breaker probes a failed service again a second after it opened, and a database back up is used
// at once: a client retrying after a second finds the service back as soon as it can.
const RETRY_UNAVAILABLE_AFTER_SECONDS = '1';

/**
 * The one mapping of a failed downstream call to the HTTP answer, exhaustive over gRPC codes.
 * Client errors keep the service's reason and message (they are written for clients); server
 * errors never pass on the service's details, which may name hosts, queries or stack frames.
 *
 * Choices: an idempotency key reused for another request is 422, as the Idempotency-Key draft
 * asks, not 400: the request itself is valid. FAILED_PRECONDITION is 409, like ABORTED: the request was valid but conflicts with the
 * current state (e.g. NO_NEXT_TRACK at the end of the queue), and retrying unchanged will not help.
 * CANCELLED is 503 because the only cancellation a client still sees is a service cancelling in
 * flight calls as it shuts down, which a retry cures. UNKNOWN, INTERNAL, DATA_LOSS, UNIMPLEMENTED
 * (a service older than the gateway) and anything else are bugs: 500 with a generic message, and
 * the problem filter logs the cause.
 */
export function httpErrorOf(error: DownstreamError): ApiError {
  const code = error.code;
  const passOn = (httpStatus: number, headers?: Record<string, string>): ApiError =>
    new ApiError(httpStatus, error.reason ?? status[code], error.details, headers, { cause: error });
  switch (code) {
    case status.INVALID_ARGUMENT:
      return passOn(error.reason === CommonReason.IDEMPOTENCY_KEY_REUSED ? 422 : 400);
    case status.OUT_OF_RANGE:
      return passOn(400);
    case status.UNAUTHENTICATED:
      return passOn(401, { 'www-authenticate': 'Bearer realm="overture"' });
    case status.PERMISSION_DENIED:
      return passOn(403);
    case status.NOT_FOUND:
      return passOn(404);
    case status.ALREADY_EXISTS:
    case status.ABORTED:
    case status.FAILED_PRECONDITION:
      return passOn(409);
    case status.RESOURCE_EXHAUSTED:
      return passOn(429);
    case status.UNAVAILABLE:
    case status.CANCELLED:
      return new ApiError(
        503,
        error.reason ?? GatewayReason.SERVICE_UNAVAILABLE,
        `the ${error.service} service is unavailable; try again shortly`,
        { 'retry-after': RETRY_UNAVAILABLE_AFTER_SECONDS },
        { cause: error },
      );
    case status.DEADLINE_EXCEEDED:
      return new ApiError(
        504,
        error.reason ?? GatewayReason.DEADLINE_EXCEEDED,
        `the ${error.service} service did not answer in time`,
        {},
        { cause: error },
      );
    case status.OK:
    case status.UNKNOWN:
    case status.UNIMPLEMENTED:
    case status.INTERNAL:
    case status.DATA_LOSS:
      return internal(error);
    default: {
      // `never` keeps the switch exhaustive at compile time; at run time a code unknown to this
      // build is still answered, and logged by name.
      const unmapped: never = code;
      return internal(new Error(`unmapped gRPC status ${String(unmapped)}`, { cause: error }));
    }
  }
}

const internal = (cause: Error): ApiError => internalError(cause);
