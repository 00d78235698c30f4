import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Principal } from './principal.js';

/** The verified caller of a route that requires an access token. */
export const CurrentUser = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<FastifyRequest>().principal;
  // Only reachable if a @Public() route asks for a user: a programming error, not a client one.
  if (!principal) throw new Error('@CurrentUser() on a route without an access token');
  return principal;
});
