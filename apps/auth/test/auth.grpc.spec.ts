import { Metadata, status } from '@grpc/grpc-js';
import { authV1 } from '@overture/contracts';
import { readGrpcError, unary, withDeadline } from '@overture/grpc';
import { type GrpcTestService } from '@overture/testing';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startAuthReplicas, type AuthReplicas } from './auth-harness.js';

type Client = authV1.AuthServiceClient;

const ISSUER = 'https://auth.test.overture';
const AUDIENCE = 'overture-test-api';
const PASSWORD = 'correct horse battery staple';

describe('auth gRPC service (real PostgreSQL, real gRPC)', () => {
  let auth: AuthReplicas;
  let service: GrpcTestService<Client>;
  const call = <T>(fn: (c: Client, md: Metadata) => Observable<T>): Promise<T> => unary(fn(service.client, new Metadata()));
  const failure = async (promise: Promise<unknown>) =>
    readGrpcError(
      await promise.then(
        () => undefined,
        (e: unknown) => e,
      ),
    );

  const register = (email: string, password = PASSWORD, displayName = 'Ada Lovelace') =>
    call((c, md) => c.register({ email, password, displayName, clientAddress: '' }, md, withDeadline(5000)));
  const passwordGrant = (email: string, password = PASSWORD) =>
    call((c, md) => c.issueToken({ password: { email, password }, clientAddress: '' }, md, withDeadline(5000)));
  const refreshGrant = (refreshToken: string) =>
    call((c, md) => c.issueToken({ refresh: { refreshToken }, clientAddress: '' }, md, withDeadline(5000)));
  const uniqueEmail = () => `user-${randomUUID()}@example.com`;

  const verifyAccessToken = async (token: string) => {
    const jwks = await call((c, md) => c.getJwks({}, md, withDeadline(5000)));
    return jwtVerify(token, createLocalJWKSet({ keys: jwks.keys }), {
      algorithms: ['EdDSA'],
      issuer: ISSUER,
      audience: AUDIENCE,
      typ: 'at+jwt',
    });
  };

  beforeAll(async () => {
    auth = await startAuthReplicas(
      'auth',
      {
        AUTH_ISSUER: ISSUER,
        AUTH_AUDIENCE: AUDIENCE,
      },
      1,
    );
    [service] = auth.replicas;
  });

  afterAll(() => auth?.stop());

  it('registers a listener and refuses the same email in another case', async () => {
    const email = uniqueEmail();
    const { user } = await register(`  ${email.toUpperCase()} `, PASSWORD, '  Ada Lovelace  ');
    expect(user).toMatchObject({ email, displayName: 'Ada Lovelace', roles: ['listener'] });
    expect(user?.userId).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(user!.createdAt).toISOString()).toBe(user!.createdAt);

    const duplicate = await failure(register(email.replace('user', 'USER'), 'another password'));
    expect(duplicate).toMatchObject({ code: status.ALREADY_EXISTS, reason: 'EMAIL_TAKEN' });

    const [{ count }] = await service.dataSource.query('SELECT count(*)::int AS count FROM users WHERE email = $1', [email]);
    expect(count).toBe(1);
    const [{ password_hash }] = await service.dataSource.query(
      'SELECT c.password_hash FROM credentials c JOIN users u ON u.id = c.user_id WHERE u.email = $1',
      [email],
    );
    expect(password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('issues an EdDSA at+jwt access token that verifies against the published JWKS', async () => {
    const email = uniqueEmail();
    const { user } = await register(email);
    const tokens = await passwordGrant(email.toUpperCase());
    expect(tokens).toMatchObject({ tokenType: 'Bearer', expiresIn: 600, refreshExpiresIn: 30 * 24 * 3600 });
    expect(tokens.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const { payload, protectedHeader } = await verifyAccessToken(tokens.accessToken);
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' });
    expect(payload).toMatchObject({ iss: ISSUER, aud: AUDIENCE, sub: user!.userId, roles: ['listener'] });
    expect(payload.sid).toMatch(/^[0-9a-f-]{36}$/);
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(payload.exp! - payload.iat!).toBe(600);

    const jwks = await call((c, md) => c.getJwks({}, md));
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kid: protectedHeader.kid, kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    expect(jwks.keys[0]!.x).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('answers a wrong password and an unknown email identically', async () => {
    const email = uniqueEmail();
    await register(email);
    const wrongPassword = await failure(passwordGrant(email, 'not the password'));
    const unknownEmail = await failure(passwordGrant(uniqueEmail()));
    expect(wrongPassword).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'INVALID_CREDENTIALS' });
    expect(unknownEmail).toEqual(wrongPassword);
  });

  it('rotates refresh tokens within one session, and a reused token revokes the whole family', async () => {
    const email = uniqueEmail();
    await register(email);
    const first = await passwordGrant(email);
    const firstClaims = (await verifyAccessToken(first.accessToken)).payload;

    const second = await refreshGrant(first.refreshToken);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    const secondClaims = (await verifyAccessToken(second.accessToken)).payload;
    expect(secondClaims.sid).toBe(firstClaims.sid);
    expect(secondClaims.sub).toBe(firstClaims.sub);
    expect(secondClaims.jti).not.toBe(firstClaims.jti);

    const reused = await failure(refreshGrant(first.refreshToken));
    expect(reused).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'REFRESH_TOKEN_REUSED' });
    const revoked = await failure(refreshGrant(second.refreshToken));
    expect(revoked).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'INVALID_REFRESH_TOKEN' });

    // Another session of the same user is untouched.
    const other = await passwordGrant(email);
    await expect(refreshGrant(other.refreshToken)).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('lets only one of two concurrent uses of a refresh token succeed', async () => {
    const email = uniqueEmail();
    await register(email);
    const { accessToken, refreshToken } = await passwordGrant(email);
    const { sid } = (await verifyAccessToken(accessToken)).payload;

    // Hold the token's row lock so both calls are in flight at once, then let them race.
    const holder = service.dataSource.createQueryRunner();
    await holder.connect();
    let results: PromiseSettledResult<authV1.IssueTokenResponse>[];
    try {
      await holder.startTransaction();
      await holder.query('SELECT id FROM refresh_tokens WHERE family_id = $1 FOR UPDATE', [sid]);
      const racing = Promise.allSettled([refreshGrant(refreshToken), refreshGrant(refreshToken)]);
      await vi.waitFor(
        async () => {
          // Polled on another connection: inside a transaction pg_stat_activity is a frozen snapshot.
          const [{ waiting }] = await service.dataSource.query(
            "SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
          );
          expect(waiting).toBe(2);
        },
        { timeout: 5_000, interval: 20 },
      );
      await holder.commitTransaction();
      results = await racing;
    } finally {
      await holder.release();
    }

    const succeeded = results.filter((r) => r.status === 'fulfilled');
    const failed = results.flatMap((r) => (r.status === 'rejected' ? [readGrpcError(r.reason)] : []));
    expect(succeeded).toHaveLength(1);
    expect(failed).toEqual([expect.objectContaining({ code: status.UNAUTHENTICATED, reason: 'REFRESH_TOKEN_REUSED' })]);
  });

  it('refuses unknown and expired refresh tokens', async () => {
    const unknown = await failure(refreshGrant(randomBytes(32).toString('base64url')));
    expect(unknown).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'INVALID_REFRESH_TOKEN' });

    const email = uniqueEmail();
    await register(email);
    const { accessToken, refreshToken } = await passwordGrant(email);
    const { sid } = (await verifyAccessToken(accessToken)).payload;
    await service.dataSource.query("UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE family_id = $1", [sid]);
    const expired = await failure(refreshGrant(refreshToken));
    expect(expired).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'INVALID_REFRESH_TOKEN' });
  });

  it('stores only hashes of refresh tokens', async () => {
    const email = uniqueEmail();
    await register(email);
    const { refreshToken } = await passwordGrant(email);
    const rows: { token_hash: Buffer }[] = await service.dataSource.query(
      'SELECT t.token_hash FROM refresh_tokens t JOIN users u ON u.id = t.user_id WHERE u.email = $1',
      [email],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash.toString('hex')).not.toContain(Buffer.from(refreshToken, 'base64url').toString('hex'));
  });

  it("reads the caller's own account, and no one else's", async () => {
    const email = uniqueEmail();
    const { user } = await register(email, PASSWORD, 'Grace Hopper');
    const { accessToken } = await passwordGrant(email);
    const md = new Metadata();
    md.set('authorization', `Bearer ${accessToken}`);
    const found = await unary(service.client.getUser({ userId: user!.userId }, md, withDeadline(5000)));
    expect(found.user).toEqual(user);
    const other = await failure(unary(service.client.getUser({ userId: randomUUID() }, md, withDeadline(5000))));
    expect(other).toMatchObject({ code: status.PERMISSION_DENIED, reason: 'USER_MISMATCH' });
    const anonymous = await failure(call((c, m) => c.getUser({ userId: user!.userId }, m)));
    expect(anonymous).toMatchObject({ code: status.UNAUTHENTICATED });
  });

  it('answers INVALID_ARGUMENT naming the field for bad input', async () => {
    const cases: [Promise<unknown>, RegExp][] = [
      [register('not-an-email'), /email/],
      [register(uniqueEmail(), 'short'), /password/],
      [register(uniqueEmail(), 'x'.repeat(129)), /password/],
      [register(uniqueEmail(), PASSWORD, '   '), /displayName/],
      [register(uniqueEmail(), PASSWORD, 'x'.repeat(65)), /displayName/],
      [call((c, md) => c.issueToken({ clientAddress: '' }, md)), /grant/],
      [passwordGrant('', PASSWORD), /password\.email/],
      [passwordGrant(uniqueEmail(), ''), /password\.password/],
      [refreshGrant(''), /refresh\.refreshToken/],
    ];
    for (const [promise, field] of cases) {
      const error = await failure(promise);
      expect(error).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_ARGUMENT' });
      expect(error?.details).toMatch(field);
    }
  });

  it('signs with the key it publishes', async () => {
    const email = uniqueEmail();
    await register(email);
    const { accessToken } = await passwordGrant(email);
    const [{ kid }] = await service.dataSource.query('SELECT kid FROM signing_keys');
    expect(decodeProtectedHeader(accessToken).kid).toBe(kid);
  });
});
