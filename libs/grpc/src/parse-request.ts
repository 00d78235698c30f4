import { CommonReason } from '@overture/contracts';
import type { z } from 'zod';
import { DomainError, ErrorCategory } from './domain-error.js';

/**
 * Validates a decoded gRPC request against its schema (proto3 has no required fields, so every
 * handler checks its input once, here) and returns the parsed value. Failures become
 * INVALID_ARGUMENT with reason `INVALID_ARGUMENT` and a message naming each bad field.
 */
export function parseRequest<S extends z.ZodType>(schema: S, request: unknown): z.output<S> {
  const result = schema.safeParse(request);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const field = issue.path.map(String).join('.');
    return field ? `${field}: ${issue.message}` : issue.message;
  });
  throw new DomainError(ErrorCategory.InvalidArgument, CommonReason.INVALID_ARGUMENT, problems.join('; '));
}
