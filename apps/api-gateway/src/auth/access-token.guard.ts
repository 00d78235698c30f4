import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../http/api-error.js';
import { IS_PUBLIC } from './public.decorator.js';
import { SigningKeysUnavailableError, TokenRejectedError, TokenVerifier } from './token-verifier.js';

const CHALLENGE = 'Bearer realm="overture"';
// RFC 6750 §2.1: the b64token syntax.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * Every route requires a valid access token unless marked @Public(). The verified caller is put on
 * the request for @CurrentUser(). Failures are 401 with a `WWW-Authenticate: Bearer` challenge
 * (RFC 6750): UNAUTHENTICATED without a token, INVALID_TOKEN with a bad one.
 */
@Injectable()
export class AccessTokenGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(TokenVerifier) private readonly verifier: TokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const header = request.headers.authorization;
    if (!header) {
      throw new ApiError(401, 'UNAUTHENTICATED', 'an access token is required: send "Authorization: Bearer <token>"', {
        'www-authenticate': CHALLENGE,
      });
    }
    const token = BEARER.exec(header)?.[1];
    if (!token) throw invalidToken('the Authorization header is not "Bearer <token>"');
    try {
      request.principal = await this.verifier.verify(token);
    } catch (error) {
      if (error instanceof TokenRejectedError) throw invalidToken(error.message);
      if (error instanceof SigningKeysUnavailableError) {
        throw new ApiError(503, 'SERVICE_UNAVAILABLE', 'access tokens cannot be checked yet; try again shortly', { 'retry-after': '1' });
      }
      throw error;
    }
    return true;
  }
}

function invalidToken(message: string): ApiError {
  return new ApiError(401, 'INVALID_TOKEN', message, {
    'www-authenticate': `${CHALLENGE}, error="invalid_token", error_description="${message.replace(/["\\]/g, '')}"`,
  });
}
