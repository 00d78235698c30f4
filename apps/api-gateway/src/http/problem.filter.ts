import {
  type ArgumentsHost,
  BadRequestException,
  Catch,
  type ExceptionFilter,
  HttpException,
  Inject,
  Logger,
  NotFoundException,
} from '@nestjs/common';
import { GatewayReason } from '@overture/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { DownstreamError } from '../downstream/downstream-error.js';
import { httpErrorOf } from '../downstream/grpc-http.mapper.js';
import { ApiError } from './api-error.js';
import { problemBody } from './problem-body.js';
import { RouteTable } from './route-table.js';
import { internalError, malformedBody, methodNotAllowed, routeNotFound } from './gateway.errors.js';

// Fastify's own request errors (raised before a handler runs), by error code.
const FASTIFY_ERRORS: Readonly<Record<string, { reason: GatewayReason; message: string }>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { reason: GatewayReason.MALFORMED_BODY, message: 'the request body is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { reason: GatewayReason.MALFORMED_BODY, message: 'the request body is empty but its content-type is JSON' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { reason: GatewayReason.MALFORMED_BODY, message: 'content-length does not match the body' },
  FST_ERR_CTP_BODY_TOO_LARGE: { reason: GatewayReason.PAYLOAD_TOO_LARGE, message: 'the request body is too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    reason: GatewayReason.UNSUPPORTED_MEDIA_TYPE,
    message: 'send the body as application/json (or application/x-www-form-urlencoded to /v1/auth/token)',
  },
};

/**
 * The one place an exception becomes an HTTP answer, always `{"error": {status, reason, message,
 * request_id}}`: ApiErrors as they are, failed downstream calls through the gRPC mapper, unknown
 * routes as 404 or 405, Fastify's body errors with their own reasons, and anything else as a 500
 * whose cause is logged but never sent.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  constructor(@Inject(RouteTable) private readonly routes: RouteTable) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    if (clientAborted(exception, request)) {
      // Nobody is left to answer, and the client is not a fault of ours: no 500, no error line.
      this.logger.debug({ msg: 'the client closed the connection before its request was read', method: request.method, url: request.url });
      return;
    }
    const error = this.toApiError(exception, request);
    // A 5xx with a cause (a failed service call, a bug) is logged; expected ones (not ready yet) are not.
    if (error.status >= 500 && error.cause !== undefined) this.log(error, request);
    if (reply.sent) return;
    void reply.status(error.status).headers(error.headers).send(problemBody(error, request.id));
  }

  private toApiError(exception: unknown, request: FastifyRequest): ApiError {
    if (exception instanceof ApiError) return exception;
    if (exception instanceof DownstreamError) return httpErrorOf(exception);
    // Nest's not-found handler is the only source of NotFoundException: handlers throw ApiErrors.
    if (exception instanceof NotFoundException) return this.routeNotFound(request);
    if (exception instanceof HttpException && exception.getStatus() < 500) return fromHttpException(exception);
    return internalError(exception);
  }

  private routeNotFound(request: FastifyRequest): ApiError {
    const path = request.url.split('?', 1)[0] ?? '/';
    const allowed = this.routes.allowedMethods(path);
    if (allowed.length > 0) {
      return methodNotAllowed(request.method, path, allowed);
    }
    return routeNotFound(`no route ${request.method} ${path}`);
  }

  private log(error: ApiError, request: FastifyRequest): void {
    const fields = { msg: `answered ${error.status} ${error.reason}`, method: request.method, url: request.url };
    // A 500 is a bug: logged with its stack. A 503/504 is a service being down or slow: one line.
    if (error.status === 500) this.logger.error(fields, error.cause instanceof Error ? error.cause : String(error.cause));
    else this.logger.warn({ ...fields, cause: error.cause instanceof Error ? error.cause.message : undefined });
  }
}

// Node fails the body stream with `aborted` (ECONNRESET) when the client closes the connection mid-body.
function clientAborted(exception: unknown, request: FastifyRequest): boolean {
  return (exception as { code?: unknown } | null)?.code === 'ECONNRESET' && request.raw.readableAborted;
}

function fromHttpException(exception: HttpException): ApiError {
  const status = exception.getStatus();
  const code = (exception.cause as { code?: unknown } | undefined)?.code;
  const known = typeof code === 'string' ? FASTIFY_ERRORS[code] : undefined;
  if (known) return new ApiError(status, known.reason, known.message);
  // Nest's form-body parser rejects `__proto__` keys this way; handlers throw ApiErrors instead.
  if (exception instanceof BadRequestException) return malformedBody(exception.message);
  const name = STATUS_CODES[status] ?? 'Bad Request';
  return new ApiError(status, name.toUpperCase().replace(/[^A-Z0-9]+/g, '_'), exception.message || name);
}
