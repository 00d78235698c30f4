import { Metadata, status } from '@grpc/grpc-js';
import { authV1 } from '@overture/contracts';
import { readGrpcError, unary, withDeadline } from '@overture/grpc';
import { type GrpcTestService } from '@overture/testing';
import { decodeJwt } from 'jose';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Observable, Subscription } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PolicyCache } from '@overture/identity';
import { PasswordHasher } from '../src/accounts/password-hasher.js';
import { startAuthReplicas, type AuthReplicas } from './auth-harness.js';

type Client = authV1.AuthServiceClient;
const PASSWORD = 'correct horse battery staple';
const BOUND = { timeout: 5_000, interval: 20 };

/** Collects every event of one WatchPolicy stream. */
function follow(stream: Observable<authV1.WatchPolicyResponse>) {
  const events: authV1.WatchPolicyResponse[] = [];
  let ended: unknown;
  const subscription: Subscription = stream.subscribe({
    next: (e) => events.push(e),
    error: (e: unknown) => (ended = e),
    complete: () => (ended = 'complete'),
  });
  return { events, ended: () => ended, stop: () => subscription.unsubscribe() };
}

describe('accounts, sessions, throttling and the live policy (real PostgreSQL, real gRPC, two replicas)', () => {
  let auth: AuthReplicas;
  let a: GrpcTestService<Client>;
  let b: GrpcTestService<Client>;
  const followers: { stop(): void }[] = [];

  const failure = async (promise: Promise<unknown>) =>
    readGrpcError(
      await promise.then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
  const bearer = (token: string): Metadata => {
    const md = new Metadata();
    md.set('authorization', `Bearer ${token}`);
    return md;
  };
  const call = <T>(fn: (c: Client, md: Metadata) => Observable<T>, token?: string, on = a): Promise<T> =>
    unary(fn(on.client, token ? bearer(token) : new Metadata()));
  const signUp = async (roles?: string[]) => {
    const email = `user-${randomUUID()}@example.com`;
    const { user } = await call((c, md) =>
      c.register({ email, password: PASSWORD, displayName: 'Test', clientAddress: '' }, md, withDeadline(5000)),
    );
    if (roles) await a.dataSource.query('UPDATE users SET roles = $2 WHERE id = $1', [user!.userId, roles]);
    return { email, userId: user!.userId };
  };
  const signIn = (email: string, password = PASSWORD, clientAddress = '') =>
    call((c, md) => c.issueToken({ password: { email, password }, clientAddress }, md, withDeadline(5000)));
  const refresh = (refreshToken: string) =>
    call((c, md) => c.issueToken({ refresh: { refreshToken }, clientAddress: '' }, md, withDeadline(5000)));
  const sidOf = (accessToken: string) => decodeJwt(accessToken).sid as string;

  beforeAll(async () => {
    auth = await startAuthReplicas(
      'auth_identity',
      {
        AUTH_SIGNIN_FREE_ATTEMPTS_PER_ACCOUNT: '3',
        AUTH_SIGNIN_FREE_ATTEMPTS_PER_ADDRESS: '1000',
      },
      2,
    );
    [a, b] = auth.replicas;
  });

  afterAll(async () => {
    for (const f of followers) f.stop();
    await auth?.stop();
  });

  it('streams a snapshot, then every change committed on any replica, and a reconnect catches up', async () => {
    const admin = await signUp(['listener', 'admin']);
    const { accessToken } = await signIn(admin.email);
    const onB = follow(b.client.watchPolicy({}, new Metadata()));
    followers.push(onB);
    await vi.waitFor(() => expect(onB.events[0]?.snapshot).toBeDefined(), BOUND);
    const snapshot = onB.events[0]!;
    expect(snapshot.snapshot!.roles.find((r) => r.role === 'listener')?.permissions).toEqual([
      'catalogue:read',
      'player:read',
      'player:write',
      'recommendations:read',
    ]);
    expect(snapshot.snapshot!.roles.find((r) => r.role === 'admin')?.permissions).toContain('policy:admin');

    // Changed through replica A, seen on replica B's stream (LISTEN/NOTIFY), with the next version.
    const changed = await call(
      (c, md) => c.setRolePermissions({ role: 'premium', permissions: ['catalogue:read', 'player:read'] }, md, withDeadline(5000)),
      accessToken,
    );
    expect(changed.version).toBeGreaterThan(snapshot.version);
    await vi.waitFor(() => expect(onB.events.some((e) => e.version === changed.version && e.roles)).toBe(true), BOUND);
    const rolesEvent = onB.events.find((e) => e.version === changed.version)!;
    expect(rolesEvent.roles!.roles.find((r) => r.role === 'premium')?.permissions).toEqual(['catalogue:read', 'player:read']);

    // A new subscriber (a reconnecting replica) gets a snapshot that already has the change.
    const later = follow(a.client.watchPolicy({}, new Metadata()));
    followers.push(later);
    await vi.waitFor(() => expect(later.events[0]?.snapshot).toBeDefined(), BOUND);
    expect(later.events[0]!.version).toBeGreaterThanOrEqual(changed.version);
    expect(later.events[0]!.snapshot!.roles.find((r) => r.role === 'premium')?.permissions).toEqual(['catalogue:read', 'player:read']);

    const policy = await call((c, md) => c.getPolicy({}, md, withDeadline(5000)), accessToken);
    expect(policy.permissions).toContain('users:admin');
    const unknown = await failure(
      call((c, md) => c.setRolePermissions({ role: 'premium', permissions: ['rockets:launch'] }, md, withDeadline(5000)), accessToken),
    );
    expect(unknown).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'UNKNOWN_PERMISSION' });
    await call(
      (c, md) =>
        c.setRolePermissions(
          { role: 'premium', permissions: ['catalogue:read', 'player:read', 'player:write', 'recommendations:read'] },
          md,
          withDeadline(5000),
        ),
      accessToken,
    );
  });

  it('when a replica loses its LISTEN connection, its streams end and a follower catches up by reconnecting', async () => {
    const admin = await signUp(['listener', 'admin']);
    const { accessToken } = await signIn(admin.email);
    const cache = new PolicyCache({
      watch: () => b.client.watchPolicy({}, new Metadata()),
      logger: { log: () => undefined, warn: () => undefined },
    });
    followers.push(cache);
    cache.start();
    await vi.waitFor(() => expect(cache.ready).toBe(true), BOUND);
    const raw = follow(b.client.watchPolicy({}, new Metadata()));
    followers.push(raw);
    await vi.waitFor(() => expect(raw.events).toHaveLength(1), BOUND);
    // Every replica's LISTEN connection is cut; a change made meanwhile is not notified to anyone.
    await a.dataSource.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'overture-auth-policy'");
    await vi.waitFor(() => expect(readGrpcError(raw.ended())).toMatchObject({ code: status.UNAVAILABLE }), BOUND);
    await call(
      (c, md) =>
        c.setRolePermissions(
          { role: 'curator', permissions: ['catalogue:read', 'catalogue:write', 'player:read'] },
          md,
          withDeadline(5000),
        ),
      accessToken,
    );
    await vi.waitFor(() => expect(cache.permissionsOf('curator')).toEqual(['catalogue:read', 'catalogue:write', 'player:read']), {
      timeout: 15_000,
      interval: 50,
    });
    await call(
      (c, md) =>
        c.setRolePermissions(
          { role: 'curator', permissions: ['catalogue:read', 'catalogue:write', 'player:read', 'player:write', 'recommendations:read'] },
          md,
          withDeadline(5000),
        ),
      accessToken,
    );
  });

  it('refuses admin methods to a listener', async () => {
    const listener = await signUp();
    const { accessToken } = await signIn(listener.email);
    // Each call's failure is taken as it is made: awaited one by one, a refusal that came back before
    // its turn was an unhandled rejection meanwhile.
    const refusals = await Promise.all([
      failure(
        call((c, md) => c.setRolePermissions({ role: 'listener', permissions: ['users:admin'] }, md, withDeadline(5000)), accessToken),
      ),
      failure(call((c, md) => c.grantRole({ userId: listener.userId, role: 'admin' }, md, withDeadline(5000)), accessToken)),
      failure(call((c, md) => c.getPolicy({}, md, withDeadline(5000)), accessToken)),
      failure(call((c, md) => c.listSecurityEvents({ userId: '', limit: 10 }, md, withDeadline(5000)), accessToken)),
    ]);
    for (const refusal of refusals) expect(refusal).toMatchObject({ code: status.PERMISSION_DENIED, reason: 'PERMISSION_DENIED' });
  });

  it('a granted role applies at once: older tokens are refused as stale, a refreshed one carries the role', async () => {
    const admin = await signUp(['listener', 'admin']);
    const adminToken = (await signIn(admin.email)).accessToken;
    const user = await signUp();
    const before = await signIn(user.email);
    const { user: updated } = await call(
      (c, md) => c.grantRole({ userId: user.userId, role: 'curator' }, md, withDeadline(5000)),
      adminToken,
    );
    expect(updated!.roles).toEqual(['listener', 'curator']);
    await vi.waitFor(async () => {
      const stale = await failure(call((c, md) => c.getUser({ userId: user.userId }, md, withDeadline(5000)), before.accessToken));
      expect(stale).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'ROLES_CHANGED' });
    }, BOUND);
    // The refreshed token carries the new roles and roles version, and works at once.
    const next = await refresh(before.refreshToken);
    expect(decodeJwt(next.accessToken)).toMatchObject({ roles: ['listener', 'curator'], rv: 1 });
    await call((c, md) => c.getUser({ userId: user.userId }, md, withDeadline(5000)), next.accessToken);
    const events = await call((c, md) => c.listSecurityEvents({ userId: user.userId, limit: 10 }, md, withDeadline(5000)), adminToken);
    expect(events.events.map((e) => e.kind)).toContain('ROLE_GRANTED');
    const granted = events.events.find((e) => e.kind === 'ROLE_GRANTED')!;
    expect(granted.actorUserId).toBe(admin.userId);
    expect(JSON.parse(granted.detail)).toEqual({ role: 'curator' });
  });

  it("lists and ends sessions; a revoked session's access token is refused within seconds; another user's session is NOT_FOUND", async () => {
    const user = await signUp();
    const phone = await signIn(user.email);
    const laptop = await signIn(user.email);
    const { sessions } = await call((c, md) => c.listSessions({ userId: user.userId }, md, withDeadline(5000)), phone.accessToken);
    expect(sessions.map((s) => s.sessionId).sort()).toEqual([sidOf(phone.accessToken), sidOf(laptop.accessToken)].sort());
    expect(sessions.find((s) => s.current)?.sessionId).toBe(sidOf(phone.accessToken));

    const stranger = await signUp();
    const strangerToken = (await signIn(stranger.email)).accessToken;
    const foreign = await failure(
      call(
        (c, md) => c.revokeSession({ userId: stranger.userId, sessionId: sidOf(laptop.accessToken) }, md, withDeadline(5000)),
        strangerToken,
      ),
    );
    expect(foreign).toMatchObject({ code: status.NOT_FOUND, reason: 'SESSION_NOT_FOUND' });
    const spoofed = await failure(
      call(
        (c, md) => c.revokeSession({ userId: user.userId, sessionId: sidOf(laptop.accessToken) }, md, withDeadline(5000)),
        strangerToken,
      ),
    );
    expect(spoofed).toMatchObject({ code: status.PERMISSION_DENIED, reason: 'USER_MISMATCH' });

    await call(
      (c, md) => c.revokeSession({ userId: user.userId, sessionId: sidOf(laptop.accessToken) }, md, withDeadline(5000)),
      phone.accessToken,
    );
    for (const replica of [a, b]) {
      await vi.waitFor(async () => {
        const refused = await failure(
          call((c, md) => c.listSessions({ userId: user.userId }, md, withDeadline(5000)), laptop.accessToken, replica),
        );
        expect(refused).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'SESSION_REVOKED' });
      }, BOUND);
    }
    expect(await failure(refresh(laptop.refreshToken))).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'INVALID_REFRESH_TOKEN' });
    await expect(refresh(phone.refreshToken)).resolves.toMatchObject({ tokenType: 'Bearer' });
    const again = await failure(
      call(
        (c, md) => c.revokeSession({ userId: user.userId, sessionId: sidOf(laptop.accessToken) }, md, withDeadline(5000)),
        phone.accessToken,
      ),
    );
    expect(again).toMatchObject({ code: status.NOT_FOUND });
  });

  it('a reused refresh token ends the session, access token included', async () => {
    const user = await signUp();
    const first = await signIn(user.email);
    const second = await refresh(first.refreshToken);
    expect(await failure(refresh(first.refreshToken))).toMatchObject({ reason: 'REFRESH_TOKEN_REUSED' });
    await vi.waitFor(async () => {
      const refused = await failure(call((c, md) => c.listSessions({ userId: user.userId }, md, withDeadline(5000)), second.accessToken));
      expect(refused).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'SESSION_REVOKED' });
    }, BOUND);
    expect(await failure(refresh(second.refreshToken))).toMatchObject({ reason: 'INVALID_REFRESH_TOKEN' });
  });

  it('revokes a session by its refresh token, and says nothing about unknown tokens', async () => {
    const user = await signUp();
    const tokens = await signIn(user.email);
    await call((c, md) => c.revokeToken({ refreshToken: tokens.refreshToken }, md, withDeadline(5000)));
    expect(await failure(refresh(tokens.refreshToken))).toMatchObject({ reason: 'INVALID_REFRESH_TOKEN' });
    await expect(
      call((c, md) => c.revokeToken({ refreshToken: randomBytes(32).toString('base64url') }, md, withDeadline(5000))),
    ).resolves.toEqual({});
  });

  it('changing the password ends every other session and keeps this one', async () => {
    const user = await signUp();
    const here = await signIn(user.email);
    const elsewhere = await signIn(user.email);
    const wrong = await failure(
      call(
        (c, md) =>
          c.changePassword(
            { userId: user.userId, currentPassword: 'not it', newPassword: 'a new passphrase', clientAddress: '' },
            md,
            withDeadline(5000),
          ),
        here.accessToken,
      ),
    );
    expect(wrong).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'INVALID_CREDENTIALS' });
    await call(
      (c, md) =>
        c.changePassword(
          { userId: user.userId, currentPassword: PASSWORD, newPassword: 'a new passphrase', clientAddress: '' },
          md,
          withDeadline(5000),
        ),
      here.accessToken,
    );
    expect(await failure(refresh(elsewhere.refreshToken))).toMatchObject({ reason: 'INVALID_REFRESH_TOKEN' });
    await expect(refresh(here.refreshToken)).resolves.toMatchObject({ tokenType: 'Bearer' });
    expect(await failure(signIn(user.email))).toMatchObject({ reason: 'INVALID_CREDENTIALS' });
    await expect(signIn(user.email, 'a new passphrase')).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('deletes the account after checking the password; its sessions end and its email is free again', async () => {
    const user = await signUp();
    const tokens = await signIn(user.email);
    expect(
      await failure(
        call(
          (c, md) => c.deleteAccount({ userId: user.userId, password: 'nope', clientAddress: '' }, md, withDeadline(5000)),
          tokens.accessToken,
        ),
      ),
    ).toMatchObject({
      reason: 'INVALID_CREDENTIALS',
    });
    await call(
      (c, md) => c.deleteAccount({ userId: user.userId, password: PASSWORD, clientAddress: '' }, md, withDeadline(5000)),
      tokens.accessToken,
    );
    expect(await failure(signIn(user.email))).toMatchObject({ reason: 'INVALID_CREDENTIALS' });
    expect(await failure(refresh(tokens.refreshToken))).toMatchObject({ reason: 'INVALID_REFRESH_TOKEN' });
    await vi.waitFor(async () => {
      expect(
        await failure(call((c, md) => c.listSessions({ userId: user.userId }, md, withDeadline(5000)), tokens.accessToken)),
      ).toMatchObject({ reason: 'SESSION_REVOKED' });
    }, BOUND);
    const [{ count }] = await a.dataSource.query(
      "SELECT count(*)::int AS count FROM security_events WHERE user_id = $1 AND kind = 'ACCOUNT_DELETED'",
      [user.userId],
    );
    expect(count).toBe(1);
  });

  it('throttles sign-in per account with growing back-off, telling how long to wait, whether or not the email exists', async () => {
    for (const email of [(await signUp()).email, `nobody-${randomUUID()}@example.com`]) {
      for (let i = 0; i < 4; i++) expect(await failure(signIn(email, 'wrong password'))).toMatchObject({ reason: 'INVALID_CREDENTIALS' });
      // Blocked now, even with the right password; the wait is in the trailing metadata.
      const blocked = await signIn(email).then(
        () => undefined,
        (e: unknown) => e as { code: number; metadata: Metadata },
      );
      expect(readGrpcError(blocked)).toMatchObject({ code: status.RESOURCE_EXHAUSTED, reason: 'TOO_MANY_SIGN_IN_ATTEMPTS' });
      expect(Number(blocked!.metadata.get('retry-after')[0])).toBeGreaterThanOrEqual(1);
    }
    const [{ count }] = await a.dataSource.query("SELECT count(*)::int AS count FROM security_events WHERE kind = 'SIGN_IN_THROTTLED'");
    expect(count).toBeGreaterThanOrEqual(2);
  });

  it('throttles per client address across accounts', async () => {
    await a.dataSource.query(
      "INSERT INTO sign_in_throttle (key, attempts, blocked_until, updated_at) VALUES ('address:203.0.113.9', 5000, now() + interval '30 seconds', now())",
    );
    const user = await signUp();
    expect(await failure(signIn(user.email, PASSWORD, '203.0.113.9'))).toMatchObject({ code: status.RESOURCE_EXHAUSTED });
    await expect(signIn(user.email, PASSWORD, '203.0.113.10')).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('rehashes a password made with other argon2id parameters at the next sign-in', async () => {
    const user = await signUp();
    const old = await new PasswordHasher({ memoryKiB: 20_000, passes: 3 }).hash(PASSWORD);
    await a.dataSource.query('UPDATE credentials SET password_hash = $2 WHERE user_id = $1', [user.userId, old]);
    await signIn(user.email);
    const [{ password_hash }] = await a.dataSource.query('SELECT password_hash FROM credentials WHERE user_id = $1', [user.userId]);
    expect(password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    await expect(signIn(user.email)).resolves.toMatchObject({ tokenType: 'Bearer' });
  });
});
