import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import { IDEMPOTENCY_KEY_HEADER, IDEMPOTENT_REPLAYED_HEADER, idempotencyKeyHeaderSchema } from '@overture/gateway-contract';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { invalidIdempotencyKey } from './gateway.errors.js';
import { openApiSchemaOf } from './openapi.js';
import { describeIssues } from './zod-validation.pipe.js';

const keyParam = createParamDecorator((_data: unknown, ctx: ExecutionContext): string | undefined => {
  const header = ctx.switchToHttp().getRequest<FastifyRequest>().headers[IDEMPOTENCY_KEY_HEADER.toLowerCase()];
  // Two Idempotency-Key headers arrive as an array: not one key, so refused like any bad key.
  const parsed = idempotencyKeyHeaderSchema.safeParse(header);
  if (!parsed.success) throw invalidIdempotencyKey(describeIssues(parsed.error.issues, header, IDEMPOTENCY_KEY_HEADER));
  return parsed.data;
});

/**
 * The client's `Idempotency-Key` on a write route, validated (400 INVALID_IDEMPOTENCY_KEY) and
 * documented; undefined when the client sent none. The service owning the write keeps it.
 */
export const IdempotencyKey = (): ParameterDecorator => {
  const doc = ApiHeader({ name: IDEMPOTENCY_KEY_HEADER, required: false, schema: openApiSchemaOf(idempotencyKeyHeaderSchema) });
  return (target, key, index) => {
    keyParam()(target, key, index);
    const descriptor = key === undefined ? undefined : Object.getOwnPropertyDescriptor(target, key);
    if (key !== undefined && descriptor) doc(target, key, descriptor);
  };
};

/** A write's answer, and whether it is the stored answer of an earlier request with the same key. */
export interface Written<T> {
  readonly view: T;
  readonly replayed: boolean;
}

/** The view to answer a write with, marking a replay with `Idempotent-Replayed: true`. */
export function answer<T>(reply: FastifyReply, written: Written<T>): T {
  if (written.replayed) void reply.header(IDEMPOTENT_REPLAYED_HEADER, 'true');
  return written.view;
}
