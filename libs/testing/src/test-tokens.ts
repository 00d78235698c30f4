// Ed25519 access tokens for tests, signed the way auth signs them, with every claim overridable.
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

export const TEST_ISSUER = 'https://overture.test/auth';
export const TEST_AUDIENCE = 'overture-api';

export interface TokenOptions {
  /** Claims to add or override (`undefined` removes a default one). */
  claims?: Record<string, unknown>;
  /** Protected-header fields to override, e.g. `typ`. */
  header?: Record<string, string>;
  /** `exp` as a jose time span or epoch seconds; default 5 minutes from now. */
  expiresAt?: string | number;
}

export interface TestSigner {
  readonly kid: string;
  /** The public key as auth publishes it. */
  readonly publicJwk: JWK & { kid: string; kty: string; crv: string; x: string };
  /** An access token as auth issues one: EdDSA, typ at+jwt, sub/sid/jti/exp/iss/aud. */
  sign(options?: TokenOptions): Promise<string>;
}

/** An Ed25519 signing key standing in for auth's, generated per test run. */
export async function createTestSigner(kid = `test-${randomUUID()}`): Promise<TestSigner> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const exported = await exportJWK(publicKey);
  const publicJwk = { ...exported, kty: 'OKP', crv: 'Ed25519', x: exported.x ?? '', kid, alg: 'EdDSA', use: 'sig' };
  return {
    kid,
    publicJwk,
    sign: async (options = {}) => {
      const defaults: JWTPayload = {
        sub: randomUUID(),
        sid: randomUUID(),
        jti: randomUUID(),
        iss: TEST_ISSUER,
        aud: TEST_AUDIENCE,
        roles: ['listener'],
      };
      const payload = Object.fromEntries(Object.entries({ ...defaults, ...options.claims }).filter(([, value]) => value !== undefined));
      return new SignJWT(payload)
        .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt', ...options.header })
        .setIssuedAt()
        .setExpirationTime(options.expiresAt ?? '5m')
        .sign(privateKey);
    },
  };
}
