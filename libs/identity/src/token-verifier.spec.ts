import { createLocalJWKSet, generateKeyPair, type JWTVerifyGetKey, SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { createTestSigner, TEST_AUDIENCE, TEST_ISSUER, type TestSigner } from '@overture/testing';
import { type KeySource, SigningKeysUnavailableError, TokenRejectedError, TokenVerifier } from './token-verifier.js';

const USER = '3f0b6c2e-8a41-4c1e-9b7a-2f4d5e6a7b8c';

class FixedKeys implements KeySource {
  refreshes = 0;
  constructor(
    public keySet: JWTVerifyGetKey | undefined,
    private readonly afterRefresh?: JWTVerifyGetKey,
  ) {}
  async refreshForUnknownKey(): Promise<boolean> {
    this.refreshes++;
    if (!this.afterRefresh) return false;
    this.keySet = this.afterRefresh;
    return true;
  }
}

function verifierFor(...signers: TestSigner[]): TokenVerifier {
  return new TokenVerifier(new FixedKeys(createLocalJWKSet({ keys: signers.map((s) => s.publicJwk) })), {
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
  });
}

async function rejection(verifier: TokenVerifier, token: string): Promise<TokenRejectedError> {
  const error = await verifier.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof TokenRejectedError)) throw new Error(`expected a TokenRejectedError, got ${String(error)}`);
  return error;
}

describe('TokenVerifier', () => {
  it('accepts a token auth would issue and names the caller', async () => {
    const signer = await createTestSigner();
    const principal = await verifierFor(signer).verify(await signer.sign({ claims: { sub: USER, sid: 'session-1', jti: 'token-1' } }));
    expect(principal).toEqual({
      userId: USER,
      sessionId: 'session-1',
      tokenId: 'token-1',
      roles: ['listener'],
      issuedAt: expect.any(Number),
      rolesVersion: 0,
    });
  });

  it('rejects an unsigned token (alg none)', async () => {
    const signer = await createTestSigner();
    const token = new UnsecuredJWT({ sub: USER, sid: 's', jti: 'j' })
      .setIssuer(TEST_ISSUER)
      .setAudience(TEST_AUDIENCE)
      .setExpirationTime('5m')
      .encode();
    await rejection(verifierFor(signer), token);
  });

  it('rejects an HS256 token keyed with the public key (algorithm confusion)', async () => {
    const signer = await createTestSigner();
    const secret = new TextEncoder().encode(JSON.stringify(signer.publicJwk));
    const token = await new SignJWT({ sub: USER, sid: 's', jti: 'j' })
      .setProtectedHeader({ alg: 'HS256', kid: signer.kid, typ: 'at+jwt' })
      .setIssuer(TEST_ISSUER)
      .setAudience(TEST_AUDIENCE)
      .setExpirationTime('5m')
      .sign(secret);
    await rejection(verifierFor(signer), token);
  });

  it('rejects a token signed by another key under a published kid', async () => {
    const published = await createTestSigner('key-1');
    const impostor = await createTestSigner('key-1');
    await rejection(verifierFor(published), await impostor.sign());
  });

  it('rejects an expired token, saying so', async () => {
    const signer = await createTestSigner();
    const error = await rejection(verifierFor(signer), await signer.sign({ expiresAt: Math.floor(Date.now() / 1000) - 60 }));
    expect(error.message).toMatch(/expired/);
  });

  it.each([
    ['aud', { aud: 'someone-else' }],
    ['iss', { iss: 'https://evil.example/auth' }],
  ])('rejects a token with the wrong %s', async (claim, claims) => {
    const signer = await createTestSigner();
    const error = await rejection(verifierFor(signer), await signer.sign({ claims }));
    expect(error.message).toContain(`"${claim}"`);
  });

  it('rejects a token of another type (an ID token or plain JWT)', async () => {
    const signer = await createTestSigner();
    await rejection(verifierFor(signer), await signer.sign({ header: { typ: 'JWT' } }));
  });

  it.each(['sub', 'sid', 'jti'])('rejects a token without %s', async (claim) => {
    const signer = await createTestSigner();
    await rejection(verifierFor(signer), await signer.sign({ claims: { [claim]: undefined } }));
  });

  it('rejects a subject that is not a user id', async () => {
    const signer = await createTestSigner();
    await rejection(verifierFor(signer), await signer.sign({ claims: { sub: "1' OR '1'='1" } }));
  });

  it('re-reads the keys once for an unknown kid, and accepts the token if the new keys have it', async () => {
    const old = await createTestSigner('old');
    const rotated = await createTestSigner('new');
    const keys = new FixedKeys(
      createLocalJWKSet({ keys: [old.publicJwk] }),
      createLocalJWKSet({ keys: [old.publicJwk, rotated.publicJwk] }),
    );
    const verifier = new TokenVerifier(keys, { issuer: TEST_ISSUER, audience: TEST_AUDIENCE });
    await expect(verifier.verify(await rotated.sign({ claims: { sub: USER } }))).resolves.toMatchObject({ userId: USER });
    expect(keys.refreshes).toBe(1);
  });

  it('rejects an unknown kid when the keys cannot be re-read', async () => {
    const known = await createTestSigner('known');
    const stranger = await createTestSigner('stranger');
    const keys = new FixedKeys(createLocalJWKSet({ keys: [known.publicJwk] }));
    await rejection(new TokenVerifier(keys, { issuer: TEST_ISSUER, audience: TEST_AUDIENCE }), await stranger.sign());
    expect(keys.refreshes).toBe(1);
  });

  it('refuses to judge tokens before any key is loaded', async () => {
    const signer = await createTestSigner();
    const verifier = new TokenVerifier(new FixedKeys(undefined), { issuer: TEST_ISSUER, audience: TEST_AUDIENCE });
    await expect(verifier.verify(await signer.sign())).rejects.toBeInstanceOf(SigningKeysUnavailableError);
  });

  it('rejects a token signed with a non-EdDSA algorithm even by a listed key type', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const token = await new SignJWT({ sub: USER, sid: 's', jti: 'j' })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' })
      .setIssuer(TEST_ISSUER)
      .setAudience(TEST_AUDIENCE)
      .setExpirationTime('5m')
      .sign(privateKey);
    await rejection(verifierFor(await createTestSigner()), token);
  });

  it('checks a repeated token once, but not past its expiry nor after the keys change', async () => {
    const signer = await createTestSigner();
    const local = createLocalJWKSet({ keys: [signer.publicJwk] });
    const lookups = vi.fn<JWTVerifyGetKey>((header, token) => local(header, token));
    const keys = new FixedKeys(lookups);
    const verifier = new TokenVerifier(keys, { issuer: TEST_ISSUER, audience: TEST_AUDIENCE });
    const token = await signer.sign({ claims: { sub: USER } });
    const first = await verifier.verify(token);
    expect(await verifier.verify(token)).toEqual(first);
    expect(lookups).toHaveBeenCalledTimes(1);

    vi.useFakeTimers({ now: Date.now() + 10 * 60_000, toFake: ['Date'] });
    try {
      expect((await rejection(verifier, token)).message).toMatch(/expired/);
    } finally {
      vi.useRealTimers();
    }

    const fresh = await signer.sign({ claims: { sub: USER } });
    await verifier.verify(fresh);
    keys.keySet = createLocalJWKSet({ keys: [] });
    await rejection(verifier, fresh);
  });
});
