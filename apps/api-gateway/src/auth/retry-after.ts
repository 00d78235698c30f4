import { status } from '@grpc/grpc-js';
import { isGrpcCallError } from '@overture/grpc';
import { DownstreamError } from '../downstream/downstream-error.js';
import { httpErrorOf } from '../downstream/grpc-http.mapper.js';
import { ApiError } from '../http/api-error.js';

// Auth's trailing-metadata key for the seconds a throttled client must wait.
const RETRY_AFTER_KEY = 'retry-after';

/**
 * Runs an auth call; a throttled answer (RESOURCE_EXHAUSTED with `retry-after` in the trailing
 * metadata) becomes 429 with a `Retry-After` header. Everything else is rethrown unchanged.
 */
export async function withRetryAfter<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (!(error instanceof DownstreamError) || error.code !== status.RESOURCE_EXHAUSTED) throw error;
    const cause = error.cause;
    const seconds = isGrpcCallError(cause) ? cause.metadata?.get(RETRY_AFTER_KEY)[0] : undefined;
    const api = httpErrorOf(error);
    if (typeof seconds !== 'string' || !/^\d{1,6}$/.test(seconds)) throw api;
    throw new ApiError(api.status, api.reason, api.message, { ...api.headers, 'retry-after': seconds }, { cause: error });
  }
}
