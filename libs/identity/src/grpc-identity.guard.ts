import type { Metadata } from '@grpc/grpc-js';
import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { CommonReason } from '@overture/contracts';
import { callerOf, DomainError, ErrorCategory, type AuthenticatedCall, type ServiceIdentity } from '@overture/grpc';
import { bearerToken } from './bearer.js';
import { ACCEPTED_CALLERS, ACTS_ON_ANY_USER, ALLOW_ANONYMOUS, REQUIRED_PERMISSION } from './permissions.js';
import { PolicyCache } from './policy-cache.js';
import type { Principal } from './principal.js';
import { SigningKeysUnavailableError, TokenRejectedError } from './token-verifier.js';

/** Checks access tokens; the JWKS-backed TokenVerifier in services, a local key source in auth. */
export interface AccessTokenChecker {
  verify(token: string): Promise<Principal>;
}

/** Injection token of the AccessTokenChecker the guard uses. */
export const ACCESS_TOKEN_CHECKER = Symbol('ACCESS_TOKEN_CHECKER');

const principals = new WeakMap<Metadata, Principal>();

/**
 * The caller of a gRPC method, as the identity guard verified it from the call's `authorization`
 * metadata. Throws on a method marked @AllowAnonymous(), which has no verified caller.
 */
export function principalOf(metadata: Metadata): Principal {
  const principal = principals.get(metadata);
  if (!principal) throw new Error('principalOf() on a call the identity guard did not authenticate');
  return principal;
}

/**
 * Every gRPC method checks two callers. First the workload on the other end, proven by its
 * mutual-TLS certificate: it must be one the method names with @Callers() (none named: nobody).
 * Then the user, from the access token the gateway
 * forwards, never from a bare user id: the token is verified locally (signature, algorithm, issuer,
 * audience, type, expiry), a revoked session or stale roles are UNAUTHENTICATED, a missing
 * @RequirePermission() is PERMISSION_DENIED, and a request `userId` other than the token's subject is
 * PERMISSION_DENIED too (unless the method is marked @ActsOnAnyUser()). Methods marked
 * @AllowAnonymous() skip all of it.
 */
@Injectable()
export class GrpcIdentityGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(ACCESS_TOKEN_CHECKER) private readonly tokens: AccessTokenChecker,
    @Inject(PolicyCache) private readonly policy: PolicyCache,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'rpc') return true;
    const targets = [context.getHandler(), context.getClass()];
    this.checkWorkload(
      context.getArgByIndex<AuthenticatedCall>(2),
      this.reflector.getAllAndOverride<ServiceIdentity[] | undefined>(ACCEPTED_CALLERS, targets),
    );
    if (this.reflector.getAllAndOverride<boolean>(ALLOW_ANONYMOUS, targets)) return true;
    const rpc = context.switchToRpc();
    const metadata = rpc.getContext<Metadata>();
    const principal = await this.authenticate(metadata);
    const permission = this.reflector.getAllAndOverride<string | undefined>(REQUIRED_PERMISSION, targets);
    if (permission && !this.policy.allows(principal.roles, permission)) {
      throw new DomainError(ErrorCategory.PermissionDenied, CommonReason.PERMISSION_DENIED, `this needs the ${permission} permission`);
    }
    const request: unknown = rpc.getData();
    const userId = typeof request === 'object' && request !== null ? (request as { userId?: unknown }).userId : undefined;
    // UUIDs compare case-insensitively: an upper-case spelling of one's own id is still one's own.
    const other = typeof userId === 'string' && userId !== '' && userId.toLowerCase() !== principal.userId.toLowerCase();
    if (other && !this.reflector.getAllAndOverride<boolean>(ACTS_ON_ANY_USER, targets)) {
      throw new DomainError(
        ErrorCategory.PermissionDenied,
        CommonReason.USER_MISMATCH,
        'userId must be the caller named by the access token',
      );
    }
    principals.set(metadata, principal);
    return true;
  }

  private checkWorkload(call: AuthenticatedCall, accepted: readonly ServiceIdentity[] | undefined): void {
    const proof = callerOf(call);
    // A plaintext connection reaches a handler only on a server started with GRPC_INSECURE_PLAINTEXT.
    if (proof.transport === 'plaintext') return;
    if (!proof.identity)
      throw new DomainError(ErrorCategory.Unauthenticated, CommonReason.UNKNOWN_CALLER, 'the client certificate names no Overture service');
    if (!accepted?.includes(proof.identity)) {
      throw new DomainError(ErrorCategory.PermissionDenied, CommonReason.CALLER_NOT_ALLOWED, `${proof.identity} may not call this method`);
    }
  }

  private async authenticate(metadata: Metadata): Promise<Principal> {
    const header = metadata.get('authorization')[0];
    if (typeof header !== 'string')
      throw new DomainError(ErrorCategory.Unauthenticated, CommonReason.UNAUTHENTICATED, 'an access token is required');
    const token = bearerToken(header);
    if (!token) throw new DomainError(ErrorCategory.Unauthenticated, CommonReason.INVALID_TOKEN, 'authorization is not "Bearer <token>"');
    if (!this.policy.ready)
      throw new DomainError(ErrorCategory.Unavailable, CommonReason.POLICY_NOT_LOADED, 'the access policy has not been loaded yet');
    let principal: Principal;
    try {
      principal = await this.tokens.verify(token);
    } catch (error) {
      if (error instanceof TokenRejectedError)
        throw new DomainError(ErrorCategory.Unauthenticated, CommonReason.INVALID_TOKEN, error.message);
      if (error instanceof SigningKeysUnavailableError)
        throw new DomainError(ErrorCategory.Unavailable, CommonReason.KEYS_NOT_LOADED, error.message);
      throw error;
    }
    const stale = this.policy.staleness(principal);
    if (stale === CommonReason.SESSION_REVOKED)
      throw new DomainError(ErrorCategory.Unauthenticated, stale, 'the session of this access token has ended');
    if (stale === CommonReason.ROLES_CHANGED) {
      throw new DomainError(ErrorCategory.Unauthenticated, stale, "the account's roles changed; refresh the access token");
    }
    return principal;
  }
}
