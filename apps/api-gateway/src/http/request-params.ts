import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import { GatewayReason } from '@overture/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { CallContext } from '../downstream/call-context.js';
import { ApiError } from './api-error.js';
import { openApiSchemaOf } from './openapi.js';
import { describeIssues, ZodValidationPipe } from './zod-validation.pipe.js';

const REQUEST_TIMEOUT_HEADER = 'x-request-timeout-ms';

const requestTimeoutSchema = z.coerce
  .number({ error: 'must be a number' })
  .int('must be a whole number of milliseconds')
  .min(1, 'must be at least 1')
  .optional()
  .describe('Time budget for the whole request, in ms; it can shorten the gateway budget for each service call (to no less than 100 ms while any of it is left), never lengthen it.');

/** Documents the `x-request-timeout-ms` header every route calling a service accepts. */
export const ApiRequestTimeoutHeader = (): MethodDecorator & ClassDecorator =>
  ApiHeader({ name: REQUEST_TIMEOUT_HEADER, required: false, schema: openApiSchemaOf(requestTimeoutSchema) });

/**
 * The context of the downstream calls a handler makes: request id, the caller's Authorization
 * header, and the client's deadline from `x-request-timeout-ms`, counted from the request's arrival.
 */
export const CallCtx = createParamDecorator((_data: unknown, ctx: ExecutionContext): CallContext => {
  const request = ctx.switchToHttp().getRequest<FastifyRequest>();
  const reply = ctx.switchToHttp().getResponse<FastifyReply>();
  const header = request.headers[REQUEST_TIMEOUT_HEADER];
  const timeout = requestTimeoutSchema.safeParse(header);
  if (!timeout.success) throw new ApiError(400, GatewayReason.INVALID_REQUEST, describeIssues(timeout.error.issues, header, REQUEST_TIMEOUT_HEADER));
  return {
    requestId: request.id,
    authorization: request.headers.authorization,
    clientDeadline: timeout.data === undefined ? undefined : Date.now() - reply.elapsedTime + timeout.data,
  };
});

const rawHeader = createParamDecorator((name: string, ctx: ExecutionContext): unknown => {
  return ctx.switchToHttp().getRequest<FastifyRequest>().headers[name];
});

/** A request header validated by its zod schema, and documented from the same schema. */
export function HeaderParam(name: string, schema: z.ZodType): ParameterDecorator {
  const header = ApiHeader({ name, required: !schema.safeParse(undefined).success, schema: openApiSchemaOf(schema) });
  return (target, key, index) => {
    rawHeader(name.toLowerCase(), new ZodValidationPipe(schema))(target, key, index);
    if (key === undefined) return;
    const descriptor = Object.getOwnPropertyDescriptor(target, key);
    if (descriptor) header(target, key, descriptor);
  };
}
