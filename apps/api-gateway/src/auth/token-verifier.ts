import { errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import type { Principal } from './principal.js';

/** Where the verifier gets public keys from; the JWKS cache in production, a fixed set in tests. */
export interface KeySource {
  /** The current keys, or undefined until they have been loaded once. */
  readonly keySet: JWTVerifyGetKey | undefined;
  /** Re-reads the keys because a token named an unknown `kid`; false when that was done too recently. */
  refreshForUnknownKey(): Promise<boolean>;
}

interface TokenVerifierOptions {
  issuer: string;
  audience: string;
}

/** The token is not one this API accepts; the message says why, for the client. */
export class TokenRejectedError extends Error {
  override readonly name = 'TokenRejectedError';
}

/** No keys have been loaded yet, so no token can be checked. */
export class SigningKeysUnavailableError extends Error {
  override readonly name = 'SigningKeysUnavailableError';
}

// Access tokens are short-lived; a few seconds absorb clock skew between auth and gateway hosts.
const CLOCK_TOLERANCE_S = 5;

const claimsSchema = z.object({
  sub: z.uuid(),
  sid: z.string().min(1),
  jti: z.string().min(1),
  roles: z.array(z.string()).optional(),
});

/**
 * Verifies access tokens locally against auth's published keys, following RFC 8725: EdDSA only
 * (never `none`, never an HMAC keyed with a public key), the expected issuer and audience, type
 * `at+jwt` (RFC 9068), and `sub`, `sid`, `jti` and `exp` present.
 */
export class TokenVerifier {
  constructor(
    private readonly keys: KeySource,
    private readonly options: TokenVerifierOptions,
  ) {}

  async verify(token: string): Promise<Principal> {
    let keySet = this.keys.keySet;
    if (!keySet) throw new SigningKeysUnavailableError('the signing keys have not been loaded yet');
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
    if (!claims.success) throw new TokenRejectedError('the access token is missing claims or has malformed ones');
    return { userId: claims.data.sub, sessionId: claims.data.sid, tokenId: claims.data.jti, roles: claims.data.roles ?? [] };
  }

  private async verifyWith(token: string, keySet: JWTVerifyGetKey): Promise<unknown> {
    const { payload } = await jwtVerify(token, keySet, {
      algorithms: ['EdDSA'],
      issuer: this.options.issuer,
      audience: this.options.audience,
      typ: 'at+jwt',
      requiredClaims: ['sub', 'sid', 'jti', 'exp'],
      clockTolerance: CLOCK_TOLERANCE_S,
    });
    return payload;
  }
}

function rejection(error: unknown): TokenRejectedError {
  if (error instanceof errors.JWTExpired) return new TokenRejectedError('the access token has expired', { cause: error });
  if (error instanceof errors.JWTClaimValidationFailed) {
    return new TokenRejectedError(`the access token's "${error.claim}" claim is not accepted`, { cause: error });
  }
  return new TokenRejectedError('the access token is not valid', { cause: error });
}
