import { Inject, Injectable } from '@nestjs/common';
import { PolicyCache, SigningKeysUnavailableError, TokenRejectedError, TokenVerifier, type Principal } from '@overture/identity';
import { decodeJwt } from 'jose';

/** Who a WebSocket connection belongs to, and until when its token is good. */
export interface SocketIdentity {
  readonly principal: Principal;
  /** Epoch ms when the access token expires. */
  readonly expiresAt: number;
}

/** The token was refused; `retryable` when only the keys or the policy are not loaded yet. */
export class SocketAuthError extends Error {
  constructor(
    readonly reason: string,
    message: string,
    readonly retryable = false,
  ) {
    super(message);
    this.name = 'SocketAuthError';
  }
}

/**
 * Checks the access token of a WebSocket connection exactly as the REST guard checks a request's:
 * verified locally against auth's keys, then against the live policy (revoked sessions, changed
 * roles). Open connections are re-checked against the policy on every heartbeat.
 */
@Injectable()
export class SocketAuthenticator {
  constructor(
    @Inject(TokenVerifier) private readonly verifier: TokenVerifier,
    @Inject(PolicyCache) private readonly policy: PolicyCache,
  ) {}

  async authenticate(token: string): Promise<SocketIdentity> {
    if (!this.policy.ready) throw new SocketAuthError('SERVICE_UNAVAILABLE', 'access cannot be checked yet; try again shortly', true);
    let principal: Principal;
    try {
      principal = await this.verifier.verify(token);
    } catch (error) {
      if (error instanceof TokenRejectedError) throw new SocketAuthError('INVALID_TOKEN', error.message);
      if (error instanceof SigningKeysUnavailableError) throw new SocketAuthError('SERVICE_UNAVAILABLE', 'access tokens cannot be checked yet', true);
      throw error;
    }
    const stale = this.revoked(principal);
    if (stale) throw new SocketAuthError(stale, 'the access token is no longer valid; sign in again or refresh it');
    // The signature was verified above; the claim is only read here.
    const exp = decodeJwt(token).exp;
    return { principal, expiresAt: exp === undefined ? Number.POSITIVE_INFINITY : exp * 1000 };
  }

  /** Why an authenticated connection must end now (its session revoked, its roles changed), if it must. */
  revoked(principal: Principal): string | undefined {
    return this.policy.staleness(principal);
  }
}
