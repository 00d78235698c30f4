import { CommonReason, GatewayReason } from '@overture/contracts';
import { ApiError } from './api-error.js';

// Every error the gateway itself answers with, one factory per kind: each reason (from
// GatewayErrorReason and CommonErrorReason in proto/) has its status and headers written once, here.
// Errors of the services are mapped from their gRPC status in downstream/grpc-http.mapper.ts.

const CHALLENGE = 'Bearer realm="overture"';

export const invalidRequest = (message: string): ApiError => new ApiError(400, GatewayReason.INVALID_REQUEST, message);

export const malformedRequest = (message: string): ApiError => new ApiError(400, GatewayReason.MALFORMED_REQUEST, message);

export const malformedBody = (message: string): ApiError => new ApiError(400, GatewayReason.MALFORMED_BODY, message);

export const invalidIdempotencyKey = (message: string): ApiError => new ApiError(400, GatewayReason.INVALID_IDEMPOTENCY_KEY, message);

/** No credentials at all: 401 with the challenge RFC 6750 asks for. */
export const authenticationRequired = (): ApiError =>
  new ApiError(401, CommonReason.UNAUTHENTICATED, 'an access token is required: send "Authorization: Bearer <token>"', {
    'www-authenticate': CHALLENGE,
  });

/** A token that cannot be used (malformed, expired, its session ended, its roles changed): 401 with `error="invalid_token"`. */
export const invalidToken = (reason: CommonReason, message: string): ApiError =>
  new ApiError(401, reason, message, {
    'www-authenticate': `${CHALLENGE}, error="invalid_token", error_description="${message.replace(/["\\]/g, '')}"`,
  });

export const permissionDenied = (permission: string): ApiError =>
  new ApiError(403, CommonReason.PERMISSION_DENIED, `this needs the ${permission} permission, which the account's roles do not grant`);

export const routeNotFound = (message: string): ApiError => new ApiError(404, GatewayReason.ROUTE_NOT_FOUND, message);

export const methodNotAllowed = (method: string, path: string, allowed: readonly string[]): ApiError =>
  new ApiError(405, GatewayReason.METHOD_NOT_ALLOWED, `${method} is not allowed on ${path}; use ${allowed.join(', ')}`, {
    allow: allowed.join(', '),
  });

export const requestTimeout = (): ApiError =>
  new ApiError(408, GatewayReason.REQUEST_TIMEOUT, 'the request (headers and body) did not arrive in time');

export const tooManyConnections = (message: string): ApiError => new ApiError(429, GatewayReason.TOO_MANY_CONNECTIONS, message);

export const headersTooLarge = (): ApiError => new ApiError(431, GatewayReason.HEADERS_TOO_LARGE, 'the request headers are too large');

/** A bug: the cause is logged, never sent. */
export const internalError = (cause?: unknown): ApiError => new ApiError(500, CommonReason.INTERNAL, 'internal error', {}, { cause });

/** Something the gateway needs is not there yet (keys, policy): try again shortly. */
export const serviceUnavailable = (message: string, retryAfterSeconds?: number): ApiError =>
  new ApiError(
    503,
    GatewayReason.SERVICE_UNAVAILABLE,
    message,
    retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) },
  );

export const shuttingDown = (message: string): ApiError => new ApiError(503, GatewayReason.SHUTTING_DOWN, message);

export const notReady = (because: string): ApiError => new ApiError(503, GatewayReason.NOT_READY, `not ready: ${because}`);
