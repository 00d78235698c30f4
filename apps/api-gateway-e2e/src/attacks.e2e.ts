import { createDecipheriv, createPrivateKey, generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, SignJWT, UnsecuredJWT } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { ErrorBody } from '@overture/gateway-contract';
import { apiClient, startSuite, type RunningSuite } from './suite-fixture.js';

interface TokenJson {
  access_token: string;
  refresh_token: string;
}

const ISSUER = 'https://overture.local/auth';
const AUDIENCE = 'overture-api';
const PASSWORD = 'correct horse battery staple';
// Revocations reach the gateway through the policy stream; this bounds the wait, it is not a sleep.
const WITHIN_SECONDS = { timeout: 5_000, interval: 25 };

/**
 * The standard attacks on token-based APIs, run against the real suite through the gateway. To
 * prove that the claim checks (not just the signature) hold, some tokens are minted with auth's
 * real private key, read from its database with the key-encryption key this test gave auth.
 */
describe('attacks on identity and access, end to end', () => {
  const keyEncryptionKey = randomBytes(32);
  let running: RunningSuite;
  let api: ReturnType<typeof apiClient>;
  let signingKey: { kid: string; privateKey: KeyObject };

  const expectError = (response: { status: number; body: unknown; headers: Headers }, status: number, reason?: string) => {
    expect(response.status, JSON.stringify(response.body)).toBe(status);
    if (reason) expect((response.body as ErrorBody).error.reason).toBe(reason);
  };
  const signUp = async () => {
    const email = `attack-${randomUUID()}@example.com`;
    const registered = await api<{ id: string }>('POST', '/v1/auth/register', {
      body: { email, password: PASSWORD, display_name: 'Mallory' },
    });
    expect(registered.status).toBe(201);
    return { email, userId: registered.body.id };
  };
  const signIn = async (email: string) => {
    const response = await api<TokenJson>('POST', '/v1/auth/token', {
      body: { grant_type: 'password', username: email, password: PASSWORD },
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body;
  };
  const refresh = (refreshToken: string) =>
    api<TokenJson>('POST', '/v1/auth/token', { body: { grant_type: 'refresh_token', refresh_token: refreshToken } });
  const me = (token: string) => api('GET', '/v1/me', { token });
  /** A token exactly as auth would sign it, with `claims` and `header` changed. */
  const mint = (sub: string, claims: Record<string, unknown> = {}, header: Record<string, string> = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      sid: randomUUID(),
      roles: ['listener'],
      jti: randomUUID(),
      iat: now,
      exp: now + 300,
      iss: ISSUER,
      aud: AUDIENCE,
      sub,
      ...claims,
    })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: signingKey.kid, ...header })
      .sign(signingKey.privateKey);
  };

  beforeAll(async () => {
    running = await startSuite(inject('postgresServerUrl'), {
      demoTracks: 50,
      extraEnv: { auth: { AUTH_KEY_ENCRYPTION_KEY: keyEncryptionKey.toString('base64'), AUTH_SIGNIN_FREE_ATTEMPTS_PER_ACCOUNT: '3' } },
    });
    api = apiClient(running.baseUrl);
    const client = new pg.Client({ connectionString: running.suite.options.databaseUrls.auth });
    await client.connect();
    try {
      const { rows } = await client.query<{ kid: string; private_key_encrypted: Buffer }>(
        'SELECT kid, private_key_encrypted FROM signing_keys WHERE activates_at <= now() ORDER BY activates_at DESC LIMIT 1',
      );
      const sealed = rows[0]!.private_key_encrypted;
      // AES-256-GCM: iv (12) ‖ tag (16) ‖ ciphertext, the kid bound as associated data.
      const decipher = createDecipheriv('aes-256-gcm', keyEncryptionKey, sealed.subarray(0, 12));
      decipher.setAuthTag(sealed.subarray(12, 28));
      decipher.setAAD(Buffer.from(`signing key ${rows[0]!.kid}`));
      const pkcs8 = Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]);
      signingKey = { kid: rows[0]!.kid, privateKey: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }) };
    } finally {
      await client.end();
    }
  });

  afterAll(async () => {
    await running?.stop();
  });

  it('accepts a token minted like auth mints them (the control for the attacks below)', async () => {
    const { userId } = await signUp();
    expect((await me(await mint(userId))).status).toBe(200);
  });

  it('refuses forged tokens: alg none, HS256 keyed with the public key, another key under the real kid', async () => {
    const { userId } = await signUp();
    const jwks = (await api<{ keys: { kid: string }[] }>('GET', '/.well-known/jwks.json')).body;
    expect(jwks.keys.map((k) => k.kid)).toContain(signingKey.kid);
    const claims = { sub: userId, sid: randomUUID(), jti: randomUUID(), roles: ['admin'] };
    const none = new UnsecuredJWT(claims).setIssuer(ISSUER).setAudience(AUDIENCE).setIssuedAt().setExpirationTime('5m').encode();
    const hs256 = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: signingKey.kid })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JSON.stringify(jwks.keys[0])));
    const impostor = generateKeyPairSync('ed25519').privateKey;
    const wrongKey = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: signingKey.kid })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(impostor);
    for (const token of [none, hs256, wrongKey]) expectError(await me(token), 401, 'INVALID_TOKEN');
    // The admin route, too: a forged "admin" role gets nowhere.
    expectError(await api('GET', '/v1/admin/policy', { token: hs256 }), 401, 'INVALID_TOKEN');
  });

  it('refuses tokens signed with the real key but with bad claims: expired, not yet valid, wrong aud or iss, wrong typ, no sid', async () => {
    const { userId } = await signUp();
    const now = Math.floor(Date.now() / 1000);
    const bad = [
      await mint(userId, { iat: now - 900, exp: now - 300 }),
      await mint(userId, { nbf: now + 300 }),
      await mint(userId, { aud: 'another-api' }),
      await mint(userId, { iss: 'https://evil.example/auth' }),
      await mint(userId, {}, { typ: 'JWT' }),
      await mint(userId, { sid: undefined }),
    ];
    for (const token of bad) expectError(await me(token), 401, 'INVALID_TOKEN');
  });

  it('refuses a tampered payload (roles raised to admin, signature kept)', async () => {
    const { email } = await signUp();
    const { access_token } = await signIn(email);
    const [header, payload, signature] = access_token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    const raised = Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString('base64url');
    expect(decodeJwt(`${header}.${raised}.${signature}`).roles).toEqual(['admin']);
    expectError(await api('GET', '/v1/admin/policy', { token: `${header}.${raised}.${signature}` }), 401, 'INVALID_TOKEN');
    expect(decodeProtectedHeader(access_token)).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' });
  });

  it("refuses a revoked session's access token within seconds", async () => {
    const { email } = await signUp();
    const phone = await signIn(email);
    const stolen = await signIn(email);
    const sid = decodeJwt(stolen.access_token).sid as string;
    expect((await me(stolen.access_token)).status).toBe(200);
    expect((await api('DELETE', `/v1/me/sessions/${sid}`, { token: phone.access_token })).status).toBe(204);
    await vi.waitFor(async () => expectError(await me(stolen.access_token), 401, 'SESSION_REVOKED'), WITHIN_SECONDS);
    expectError(await refresh(stolen.refresh_token), 401, 'INVALID_REFRESH_TOKEN');
    expect((await me(phone.access_token)).status).toBe(200);
  });

  it('a reused refresh token revokes the family: the thief and the owner both have to sign in again', async () => {
    const { email } = await signUp();
    const original = await signIn(email);
    const rotated = await refresh(original.refresh_token);
    expect(rotated.status).toBe(200);
    expectError(await refresh(original.refresh_token), 401, 'REFRESH_TOKEN_REUSED');
    expectError(await refresh(rotated.body.refresh_token), 401, 'INVALID_REFRESH_TOKEN');
    await vi.waitFor(async () => expectError(await me(rotated.body.access_token), 401, 'SESSION_REVOKED'), WITHIN_SECONDS);
  });

  it('refuses curator and admin endpoints to a listener (403), and to nobody (401)', async () => {
    const { email, userId } = await signUp();
    const { access_token } = await signIn(email);
    const attempts = [
      api('GET', '/v1/admin/policy', { token: access_token }),
      api('PUT', '/v1/admin/policy/roles/listener', { token: access_token, body: { permissions: ['users:admin', 'policy:admin'] } }),
      api('PUT', `/v1/admin/users/${userId}/roles/admin`, { token: access_token }),
      api('GET', '/v1/admin/security-events', { token: access_token }),
      // Curator endpoints: catalogue writes.
      api('POST', '/v1/tracks', { token: access_token, body: { title: 'Mine now' } }),
      api('DELETE', `/v1/tracks/${randomUUID()}`, { token: access_token }),
    ];
    for (const response of await Promise.all(attempts)) expectError(response, 403, 'PERMISSION_DENIED');
    expectError(await api('GET', '/v1/admin/policy'), 401, 'UNAUTHENTICATED');
  });

  it("gives 404 for another user's session and queue item ids, whatever the path", async () => {
    const alice = await signIn((await signUp()).email);
    const bob = await signIn((await signUp()).email);
    const bobSession = decodeJwt(bob.access_token).sid as string;
    expectError(await api('DELETE', `/v1/me/sessions/${bobSession}`, { token: alice.access_token }), 404);
    const tracks = await api<{ tracks: { id: string }[] }>('GET', '/v1/search?limit=2', { token: bob.access_token });
    expect(tracks.status, JSON.stringify(tracks.body)).toBe(200);
    const queued = await api<{ items: { queue_item_id: string }[] }>('POST', '/v1/me/player/queue', {
      token: bob.access_token,
      body: { track_ids: [tracks.body.tracks[0]!.id] },
    });
    expect(queued.status, JSON.stringify(queued.body)).toBe(201);
    const bobItem = queued.body.items[0]!.queue_item_id;
    expectError(await api('DELETE', `/v1/me/player/queue/items/${bobItem}`, { token: alice.access_token }), 404);
    // Bob's queue is untouched, and Alice's own queue does not show Bob's item.
    const bobQueue = await api<{ items: { queue_item_id: string }[] }>('GET', '/v1/me/player/queue', { token: bob.access_token });
    expect(bobQueue.body.items.map((i) => i.queue_item_id)).toEqual([bobItem]);
    const aliceQueue = await api<{ items: unknown[] }>('GET', '/v1/me/player/queue', { token: alice.access_token });
    expect(aliceQueue.body.items).toEqual([]);
    const sessions = await api<{ sessions: { id: string }[] }>('GET', '/v1/me/sessions', { token: alice.access_token });
    expect(sessions.body.sessions.map((s) => s.id)).not.toContain(bobSession);
  });

  it('answers an unknown email exactly like a wrong password', async () => {
    const { email } = await signUp();
    const wrong = await api<ErrorBody>('POST', '/v1/auth/token', {
      body: { grant_type: 'password', username: email, password: 'not it at all' },
    });
    const unknown = await api<ErrorBody>('POST', '/v1/auth/token', {
      body: { grant_type: 'password', username: `nobody-${randomUUID()}@example.com`, password: 'not it at all' },
    });
    expect(wrong.status).toBe(401);
    const { request_id: _a, ...wrongBody } = wrong.body.error;
    const { request_id: _b, ...unknownBody } = unknown.body.error;
    expect(unknownBody).toEqual(wrongBody);
    expect(unknown.status).toBe(wrong.status);
  });

  it('limits sign-in attempts per account: 429 with Retry-After, even for the right password', async () => {
    const { email } = await signUp();
    for (let i = 0; i < 4; i++) {
      const attempt = await api('POST', '/v1/auth/token', { body: { grant_type: 'password', username: email, password: `guess-${i}` } });
      expectError(attempt, 401, 'INVALID_CREDENTIALS');
    }
    const blocked = await api('POST', '/v1/auth/token', { body: { grant_type: 'password', username: email, password: PASSWORD } });
    expectError(blocked, 429, 'TOO_MANY_SIGN_IN_ATTEMPTS');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});
