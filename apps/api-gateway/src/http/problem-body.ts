import type { ErrorBody } from '@overture/gateway-contract';
import type { ApiError } from './api-error.js';

export function problemBody(error: ApiError, requestId: string): ErrorBody {
  return { error: { status: error.status, reason: error.reason, message: error.message, request_id: requestId } };
}
