import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { toGrpcError, type GrpcErrorResponse } from '@overture/grpc';
import { type Observable, throwError } from 'rxjs';
import { ThrottledError } from './throttled.error.js';

/** Trailing-metadata key with the seconds to wait; the gateway turns it into `Retry-After`. */
export const RETRY_AFTER_KEY = 'retry-after';

/**
 * RESOURCE_EXHAUSTED for a throttled call, like any DomainError, plus the seconds until the next
 * attempt is allowed in the trailing metadata. Every other exception goes on to the global filter.
 */
@Catch(ThrottledError)
export class ThrottledFilter implements RpcExceptionFilter<ThrottledError> {
  catch(exception: ThrottledError): Observable<GrpcErrorResponse> {
    const response = toGrpcError(exception);
    response.metadata.set(RETRY_AFTER_KEY, String(exception.retryAfterSeconds));
    return throwError(() => response);
  }
}
