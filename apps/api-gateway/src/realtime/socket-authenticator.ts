import { Inject, Injectable } from '@nestjs/common';
import { CommonReason, GatewayReason } from '@overture/contracts';
import { PolicyCache, SigningKeysUnavailableError, TokenRejectedError, TokenVerifier, type Principal } from '@overture/identity';
import { decodeJwt } from 'jose';
import { CLOSE } from '@overture/gateway-contract';

/** The permission a connection needs, at the handshake and for as long as it stays open. */
export const REALTIME_PERMISSION = 'player:read';

/** Who a WebSocket connection belongs to, and until when its token is good. */
export interface SocketIdentity {
  readonly principal: Principal;
  /** Epoch ms when the access token expires. */
  readonly expiresAt: number;
}

/** Why an open connection must end now, as the close code and reason it is closed with. */
export interface Refusal {
  readonly code: number;
  readonly reason: string;
}

/** The token was refused: 401 (invalid, expired, revoked), 403 (no permission) or 503 (keys or policy not loaded yet). */
export class SocketAuthError extends Error {
  constructor(
    readonly reason: string,
    message: string,
    readonly status: 401 | 403 | 503 = 401,
  ) {
    super(message);
    this.name = 'SocketAuthError';
  }

  get retryable(): boolean {
    return this.status === 503;
  }
}

/**
 * Checks the access token of a WebSocket connection exactly as the REST guard checks a request's:
 * verified locally against auth's keys, then against the live policy (revoked sessions, changed
 * roles, the `player:read` permission). Open connections are checked again before every message the
 * server sends them and on every policy change, so a revocation closes them as soon as it arrives.
 */
@Injectable()
export class SocketAuthenticator {
  constructor(
    @Inject(TokenVerifier) private readonly verifier: TokenVerifier,
    @Inject(PolicyCache) private readonly policy: PolicyCache,
  ) {}

  async authenticate(token: string): Promise<SocketIdentity> {
    if (!this.policy.ready)
      throw new SocketAuthError(GatewayReason.SERVICE_UNAVAILABLE, 'access cannot be checked yet; try again shortly', 503);
    let principal: Principal;
    try {
      principal = await this.verifier.verify(token);
    } catch (error) {
      if (error instanceof TokenRejectedError) throw new SocketAuthError(CommonReason.INVALID_TOKEN, error.message);
      if (error instanceof SigningKeysUnavailableError)
        throw new SocketAuthError(GatewayReason.SERVICE_UNAVAILABLE, 'access tokens cannot be checked yet', 503);
      throw error;
    }
    // The signature was verified above; the claim is only read here.
    const exp = decodeJwt(token).exp;
    const identity = { principal, expiresAt: exp === undefined ? Number.POSITIVE_INFINITY : exp * 1000 };
    const refusal = this.refusal(identity);
    if (refusal?.code === CLOSE.forbidden)
      throw new SocketAuthError(
        CommonReason.PERMISSION_DENIED,
        `this needs the ${REALTIME_PERMISSION} permission, which the account's roles do not grant`,
        403,
      );
    if (refusal) throw new SocketAuthError(refusal.reason, 'the access token is no longer valid; sign in again or refresh it');
    return identity;
  }

  /** Why a connection of this identity must end now, if it must: a few map lookups, cheap enough for every send. */
  refusal(identity: SocketIdentity, now = Date.now()): Refusal | undefined {
    if (identity.expiresAt <= now) return { code: CLOSE.unauthenticated, reason: GatewayReason.TOKEN_EXPIRED };
    const stale = this.policy.staleness(identity.principal, now);
    if (stale) return { code: CLOSE.unauthenticated, reason: stale };
    if (!this.policy.allows(identity.principal.roles, REALTIME_PERMISSION))
      return { code: CLOSE.forbidden, reason: CommonReason.PERMISSION_DENIED };
    return undefined;
  }

  /** Calls `listener` after every change of the live policy; returns the unsubscribe function. */
  onPolicyChange(listener: () => void): () => void {
    return this.policy.onChange(() => listener());
  }
}
