import { counter } from '@overture/metrics';
import { errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import type { Principal } from './principal.js';

/** Where the verifier gets public keys from; a JWKS cache in production, a fixed set in tests. */
export interface KeySource {
  /** The current keys, or undefined until they have been loaded once. */
  readonly keySet: JWTVerifyGetKey | undefined;
  /** Re-reads the keys because a token named an unknown `kid`; false when that was done too recently. */
  refreshForUnknownKey(): Promise<boolean>;
}

export interface TokenVerifierOptions {
  issuer: string;
  audience: string;
}

/** Why a token was refused, as counted in `overture_token_verification_failures_total{reason}`. */
type FailureReason = 'keys_unavailable' | 'expired' | 'claim_rejected' | 'malformed_claims' | 'invalid';

const failures = counter({
  name: 'overture_token_verification_failures_total',
  help: 'Access tokens refused, by reason (expired, claim_rejected, malformed_claims, invalid, keys_unavailable).',
  labelNames: ['reason'],
});
const failureCounters = Object.fromEntries(
  (['keys_unavailable', 'expired', 'claim_rejected', 'malformed_claims', 'invalid'] as const).map((reason) => [
    reason,
    failures.labels(reason),
  ]),
) as Record<FailureReason, { inc(): void }>;

/** The token is not one this API accepts; the message says why, for the client. */
export class TokenRejectedError extends Error {
  override readonly name = 'TokenRejectedError';

  constructor(
    message: string,
    options?: ErrorOptions,
    readonly reason: FailureReason = 'invalid',
  ) {
    super(message, options);
  }
}

/** No keys have been loaded yet, so no token can be checked. */
export class SigningKeysUnavailableError extends Error {
  override readonly name = 'SigningKeysUnavailableError';
}

// Access tokens are short-lived; a few seconds absorb clock skew between auth and verifier hosts.
const CLOCK_TOLERANCE_S = 5;
// Verified tokens remembered (a client sends the same token for minutes); ~6 MB at most.
const VERIFIED_CACHE_SIZE = 10_000;

const claimsSchema = z.object({
  sub: z.uuid(),
  sid: z.string().min(1),
  jti: z.string().min(1),
  iat: z.number().int(),
  exp: z.number().int(),
  roles: z.array(z.string()).optional(),
  rv: z.number().int().min(0).optional(),
});

/**
 * Verifies access tokens locally against auth's published keys, following RFC 8725: EdDSA only
 * (never `none`, never an HMAC keyed with a public key), the expected issuer and audience, type
 * `at+jwt` (RFC 9068), `nbf` when present, and `sub`, `sid`, `jti`, `iat` and `exp` present.
 *
 * A token that verified is remembered until it expires, so the signature of a token a client
 * sends again and again is checked once (the check that costs); the memory is dropped whenever the
 * key set changes. Revocation and permissions are not part of this: callers check them per request.
 */
export class TokenVerifier {
  private readonly verified = new Map<string, { principal: Principal; usableUntilMs: number; keySet: JWTVerifyGetKey }>();

  constructor(
    private readonly keys: KeySource,
    private readonly options: TokenVerifierOptions,
  ) {}

  async verify(token: string): Promise<Principal> {
    try {
      return await this.check(token);
    } catch (error) {
      if (error instanceof TokenRejectedError) failureCounters[error.reason].inc();
      else if (error instanceof SigningKeysUnavailableError) failureCounters.keys_unavailable.inc();
      throw error;
    }
  }

  private async check(token: string): Promise<Principal> {
    let keySet = this.keys.keySet;
    if (!keySet) throw new SigningKeysUnavailableError('the signing keys have not been loaded yet');
    const remembered = this.verified.get(token);
    if (remembered && remembered.keySet === keySet && remembered.usableUntilMs > Date.now()) return remembered.principal;
    let payload: unknown;
    try {
      payload = await this.verifyWith(token, keySet);
    } catch (error) {
      // A kid we have not seen may be a key auth published since the last refresh.
      if (!(error instanceof errors.JWKSNoMatchingKey) || !(await this.keys.refreshForUnknownKey())) throw rejection(error);
      keySet = this.keys.keySet ?? keySet;
      try {
        payload = await this.verifyWith(token, keySet);
      } catch (retryError) {
        throw rejection(retryError);
      }
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success)
      throw new TokenRejectedError('the access token is missing claims or has malformed ones', undefined, 'malformed_claims');
    const { sub, sid, jti, iat, exp, roles, rv } = claims.data;
    const principal: Principal = { userId: sub, sessionId: sid, tokenId: jti, roles: roles ?? [], issuedAt: iat, rolesVersion: rv ?? 0 };
    this.remember(token, principal, (exp + CLOCK_TOLERANCE_S) * 1000, keySet);
    return principal;
  }

  private remember(token: string, principal: Principal, usableUntilMs: number, keySet: JWTVerifyGetKey): void {
    if (this.verified.size >= VERIFIED_CACHE_SIZE) {
      // Oldest first: Map iteration follows insertion order.
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) this.verified.delete(oldest);
    }
    this.verified.set(token, { principal, usableUntilMs, keySet });
  }

  private async verifyWith(token: string, keySet: JWTVerifyGetKey): Promise<unknown> {
    const { payload } = await jwtVerify(token, keySet, {
      algorithms: ['EdDSA'],
      issuer: this.options.issuer,
      audience: this.options.audience,
      typ: 'at+jwt',
      requiredClaims: ['sub', 'sid', 'jti', 'iat', 'exp'],
      clockTolerance: CLOCK_TOLERANCE_S,
    });
    return payload;
  }
}

function rejection(error: unknown): TokenRejectedError {
  if (error instanceof errors.JWTExpired) return new TokenRejectedError('the access token has expired', { cause: error }, 'expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    return new TokenRejectedError(`the access token's "${error.claim}" claim is not accepted`, { cause: error }, 'claim_rejected');
  }
  return new TokenRejectedError('the access token is not valid', { cause: error });
}
