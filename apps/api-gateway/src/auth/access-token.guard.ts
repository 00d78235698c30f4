import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { CommonReason } from '@overture/contracts';
import {
  bearerToken,
  PolicyCache,
  REQUIRED_PERMISSION,
  SigningKeysUnavailableError,
  TokenRejectedError,
  TokenVerifier,
} from '@overture/identity';
import type { FastifyRequest } from 'fastify';
import { IS_PUBLIC } from './public.decorator.js';
import { authenticationRequired, invalidToken, permissionDenied, serviceUnavailable } from '../http/gateway.errors.js';

/**
 * Every route requires a valid access token unless marked @Public(). The token is verified locally
 * (auth's cached keys), then checked against the live policy: a revoked session or roles changed
 * since it was issued are 401; a route marked @RequirePermission() that the caller's roles do not
 * grant is 403 PERMISSION_DENIED. The verified caller is put on the request for @CurrentUser().
 * 401s carry a `WWW-Authenticate: Bearer` challenge (RFC 6750).
 */
@Injectable()
export class AccessTokenGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(TokenVerifier) private readonly verifier: TokenVerifier,
    @Inject(PolicyCache) private readonly policy: PolicyCache,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const header = request.headers.authorization;
    if (!header) {
      throw authenticationRequired();
    }
    const token = bearerToken(header);
    if (!token) throw invalidToken(CommonReason.INVALID_TOKEN, 'the Authorization header is not "Bearer <token>"');
    if (!this.policy.ready) {
      throw serviceUnavailable('access cannot be checked yet; try again shortly', 1);
    }
    try {
      request.principal = await this.verifier.verify(token);
    } catch (error) {
      if (error instanceof TokenRejectedError) throw invalidToken(CommonReason.INVALID_TOKEN, error.message);
      if (error instanceof SigningKeysUnavailableError) {
        throw serviceUnavailable('access tokens cannot be checked yet; try again shortly', 1);
      }
      throw error;
    }
    const stale = this.policy.staleness(request.principal);
    if (stale === CommonReason.SESSION_REVOKED) throw invalidToken(stale, 'the session of this access token has ended; sign in again');
    if (stale === CommonReason.ROLES_CHANGED) throw invalidToken(stale, "the account's roles changed; refresh the access token");
    const permission = this.reflector.getAllAndOverride<string | undefined>(REQUIRED_PERMISSION, targets);
    if (permission && !this.policy.allows(request.principal.roles, permission)) {
      throw permissionDenied(permission);
    }
    return true;
  }
}
