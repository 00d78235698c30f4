import { Catch, Logger, type RpcExceptionFilter } from '@nestjs/common';
import { Metadata, status } from '@grpc/grpc-js';
import { CommonReason } from '@overture/contracts';
import { type Observable, throwError } from 'rxjs';
import { isDatabaseUnavailable } from './database-unavailable.js';
import { DomainError } from './domain-error.js';
import { ERROR_REASON_KEY, isGrpcCallError, toGrpcError, type GrpcErrorResponse } from './grpc-status.js';

/**
 * The one place a gRPC service turns exceptions into statuses: DomainErrors keep their category and
 * reason; a failed downstream call keeps UNAVAILABLE/DEADLINE_EXCEEDED (so callers can retry or
 * degrade) and a full bulkhead RESOURCE_EXHAUSTED; a database that refused, dropped or had no
 * connection to give is UNAVAILABLE with DATABASE_UNAVAILABLE; anything else is a bug, logged with its stack and answered as INTERNAL without details.
 * Without this filter Nest answers every thrown error as UNKNOWN.
 */
@Catch()
export class GrpcExceptionFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('GrpcExceptionFilter');
  private databaseWarnedAt = 0;

  catch(exception: unknown): Observable<GrpcErrorResponse> {
    return throwError(() => this.toResponse(exception));
  }

  private toResponse(exception: unknown): GrpcErrorResponse {
    if (exception instanceof DomainError) return toGrpcError(exception);
    if (isDatabaseUnavailable(exception)) {
      // Every call fails alike during an outage: one line a second says it.
      const now = Date.now();
      if (now - this.databaseWarnedAt >= 1_000) {
        this.databaseWarnedAt = now;
        this.logger.warn(`database unavailable: ${exception instanceof Error ? exception.message : String(exception)}`);
      }
      return withReason(status.UNAVAILABLE, CommonReason.DATABASE_UNAVAILABLE, 'the database is unavailable; retry shortly');
    }
    if (isGrpcCallError(exception)) {
      const code = exception.code;
      if (code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED) {
        return withReason(code, CommonReason.DEPENDENCY_UNAVAILABLE, `a dependency did not answer: ${exception.message}`);
      }
      // Local overload (a full bulkhead): tell the caller to back off rather than report a bug.
      if (code === status.RESOURCE_EXHAUSTED) return withReason(code, CommonReason.OVERLOADED, exception.message);
    }
    this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    return withReason(status.INTERNAL, CommonReason.INTERNAL, 'internal error');
  }
}

function withReason(code: status, reason: CommonReason, message: string): GrpcErrorResponse {
  const metadata = new Metadata();
  metadata.set(ERROR_REASON_KEY, reason);
  return { code, message, details: message, metadata };
}
