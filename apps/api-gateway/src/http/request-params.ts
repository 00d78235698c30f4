import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { CallContext } from '../downstream/call-context.js';
import { openApiSchemaOf } from './openapi.js';
import { describeIssues, ZodValidationPipe } from './zod-validation.pipe.js';
import { invalidRequest } from './gateway.errors.js';

const REQUEST_TIMEOUT_HEADER = 'x-request-timeout-ms';

const requestTimeoutSchema = z.coerce
  .number({ error: 'must be a number' })
  .int('must be a whole number of milliseconds')
  .min(1, 'must be at least 1')
  .optional()
  .describe(
    'Time budget for the whole request, in ms; it can shorten the gateway budget for each service call (to no less than 100 ms while any of it is left), never lengthen it.',
  );

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
  if (!timeout.success) throw invalidRequest(describeIssues(timeout.error.issues, header, REQUEST_TIMEOUT_HEADER));
  return {
    requestId: request.id,
    authorization: request.headers.authorization,
    clientDeadline: timeout.data === undefined ? undefined : Date.now() - reply.elapsedTime + timeout.data,
  };
});

/** The client's address as the gateway resolved it (TRUST_PROXY decides whether X-Forwarded-For counts); auth limits some calls by it. */
export const ClientAddress = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): string => ctx.switchToHttp().getRequest<FastifyRequest>().ip,
);

const rawHeader = createParamDecorator((name: string, ctx: ExecutionContext): unknown => {
  return ctx.switchToHttp().getRequest<FastifyRequest>().headers[name];
});

/** A request header validated by its zod schema, and documented from the same schema. */
export function HeaderParam(name: string, schema: z.ZodType): ParameterDecorator {
  return headersParam(rawHeader(name.toLowerCase(), new ZodValidationPipe(schema)), { [name]: schema });
}

const allHeaders = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): unknown => ctx.switchToHttp().getRequest<FastifyRequest>().headers,
);

/**
 * Several request headers read as one object keyed by lower-case name, validated by `schema` (an
 * object schema over those keys) and documented header by header from `documented`.
 */
export function HeadersParam(schema: z.ZodType, documented: Readonly<Record<string, z.ZodType>>): ParameterDecorator {
  return headersParam(allHeaders(new ZodValidationPipe(schema)), documented);
}

function headersParam(param: ParameterDecorator, documented: Readonly<Record<string, z.ZodType>>): ParameterDecorator {
  const docs = Object.entries(documented).map(([name, schema]) =>
    ApiHeader({ name, required: !schema.safeParse(undefined).success, schema: openApiSchemaOf(schema) }),
  );
  return (target, key, index) => {
    param(target, key, index);
    if (key === undefined) return;
    const descriptor = Object.getOwnPropertyDescriptor(target, key);
    if (descriptor) for (const doc of docs) doc(target, key, descriptor);
  };
}
