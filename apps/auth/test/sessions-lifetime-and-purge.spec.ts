import { Metadata, status } from '@grpc/grpc-js';
import { authV1 } from '@overture/contracts';
import { createDataSource } from '@overture/database';
import { readGrpcError, unary, withDeadline } from '@overture/grpc';
import { createTestDatabase, migrate, type GrpcTestService, type TestDatabase } from '@overture/testing';
import { decodeJwt } from 'jose';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrations } from '../src/database/migrations/index.js';
import { PurgeService } from '../src/maintenance/purge.service.js';
import { startAuthReplicas, type AuthReplicas } from './auth-harness.js';

type Client = authV1.AuthServiceClient;
const PASSWORD = 'correct horse battery staple';
const MAX_AGE_S = 3600;

describe('session lifetime and the purge (real PostgreSQL, two replicas)', () => {
  let auth: AuthReplicas;
  let a: GrpcTestService<Client>;
  let b: GrpcTestService<Client>;

  const failure = async (promise: Promise<unknown>) =>
    readGrpcError(
      await promise.then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
  const signUp = async () => {
    const email = `life-${randomUUID()}@example.com`;
    const { user } = await unary(
      a.client.register({ email, password: PASSWORD, displayName: 'Life', clientAddress: '' }, new Metadata(), withDeadline(5000)),
    );
    return { email, userId: user!.userId };
  };
  const signIn = (email: string) =>
    unary(a.client.issueToken({ password: { email, password: PASSWORD }, clientAddress: '' }, new Metadata(), withDeadline(5000)));
  const refresh = (refreshToken: string) =>
    unary(a.client.issueToken({ refresh: { refreshToken }, clientAddress: '' }, new Metadata(), withDeadline(5000)));
  const count = async (sql: string, params: unknown[] = []) => ((await a.dataSource.query(sql, params)) as { n: number }[])[0]!.n;

  beforeAll(async () => {
    auth = await startAuthReplicas(
      'auth_lifetime',
      {
        AUTH_SESSION_MAX_AGE_SECONDS: String(MAX_AGE_S),
        AUTH_SESSION_HISTORY_RETENTION_SECONDS: '86400',
        AUTH_SECURITY_EVENT_RETENTION_DAYS: '30',
        // The timer stays off; the test runs the purge itself.
        AUTH_PURGE_INTERVAL_SECONDS: '0',
      },
      2,
    );
    [a, b] = auth.replicas;
  });

  afterAll(() => auth?.stop());

  it('a session ends at its absolute lifetime however often it refreshes; no refresh token outlives it', async () => {
    const { email } = await signUp();
    const first = await signIn(email);
    expect(first.refreshExpiresIn).toBeLessThanOrEqual(MAX_AGE_S);
    expect(first.refreshExpiresIn).toBeGreaterThan(MAX_AGE_S - 10);
    const second = await refresh(first.refreshToken);
    expect(second.refreshExpiresIn).toBeLessThanOrEqual(MAX_AGE_S);
    // The session reaches its end; the token in hand has not expired by itself.
    await a.dataSource.query("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1", [
      decodeJwt(second.accessToken).sid,
    ]);
    expect(await failure(refresh(second.refreshToken))).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'INVALID_REFRESH_TOKEN' });
  });

  it('purges old rows in bounded batches, keeps what is still needed, and two replicas purging at once share the work', async () => {
    const { email, userId } = await signUp();
    const live = await signIn(email);
    const liveNext = await refresh(live.refreshToken);
    const liveSid = decodeJwt(live.accessToken).sid as string;
    const ended = await signIn(email);
    const endedSid = decodeJwt(ended.accessToken).sid as string;
    // An ended session two days ago (past the one-day retention) and a used token of the live one used two days ago.
    await a.dataSource.query("UPDATE sessions SET revoked_at = now() - interval '2 days' WHERE id = $1", [endedSid]);
    await a.dataSource.query("UPDATE refresh_tokens SET used_at = now() - interval '2 days' WHERE family_id = $1 AND used_at IS NOT NULL", [
      liveSid,
    ]);
    // A recently revoked session stays (within retention).
    const recent = await signIn(email);
    const recentSid = decodeJwt(recent.accessToken).sid as string;
    await a.dataSource.query('UPDATE sessions SET revoked_at = now() WHERE id = $1', [recentSid]);
    // 2,500 security events past retention, some recent ones; idle and busy throttle keys.
    await a.dataSource.query(
      "INSERT INTO security_events (kind, user_id, occurred_at) SELECT 'SIGN_IN', $1, now() - interval '40 days' FROM generate_series(1, 2500)",
      [userId],
    );
    const recentEvents = await count("SELECT count(*)::int AS n FROM security_events WHERE occurred_at > now() - interval '1 day'");
    await a.dataSource.query(
      `INSERT INTO sign_in_throttle (key, attempts, blocked_until, updated_at) VALUES
         ('address:idle', 3, NULL, now() - interval '2 days'),
         ('address:blocked', 9, now() + interval '10 minutes', now() - interval '2 days'),
         ('address:busy', 3, NULL, now())`,
    );

    const [fromA, fromB] = await Promise.all([a.running.app.get(PurgeService).run(), b.running.app.get(PurgeService).run()]);
    const total = (key: keyof typeof fromA) => fromA[key] + fromB[key];
    expect(total('securityEvents')).toBe(2500);
    expect(total('endedSessions')).toBe(1);
    expect(total('refreshTokens')).toBe(1);
    expect(total('throttleKeys')).toBe(1);

    expect(await count('SELECT count(*)::int AS n FROM sessions WHERE id = ANY ($1::uuid[])', [[liveSid, recentSid]])).toBe(2);
    expect(await count('SELECT count(*)::int AS n FROM sessions WHERE id = $1', [endedSid])).toBe(0);
    expect(await count('SELECT count(*)::int AS n FROM refresh_tokens WHERE family_id = $1', [endedSid])).toBe(0);
    expect(await count("SELECT count(*)::int AS n FROM security_events WHERE occurred_at > now() - interval '1 day'")).toBe(recentEvents);
    expect(await count("SELECT count(*)::int AS n FROM sign_in_throttle WHERE key IN ('address:blocked', 'address:busy')")).toBe(2);
    // The live session goes on; its purged old token is simply invalid now.
    await expect(refresh(liveNext.refreshToken)).resolves.toMatchObject({ tokenType: 'Bearer' });
    expect(await failure(refresh(live.refreshToken))).toMatchObject({ reason: 'INVALID_REFRESH_TOKEN' });
    // A second run finds nothing more.
    expect(await a.running.app.get(PurgeService).run()).toEqual({ endedSessions: 0, refreshTokens: 0, throttleKeys: 0, securityEvents: 0 });
  });
});

describe('the sessions migration', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase(inject('postgresServerUrl'), 'auth_sessions_migration');
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('backfills one session per refresh-token family, and its revert carries revocations back to the tokens', async () => {
    await migrate(db.url, migrations.slice(0, 2));
    // Up to the sessions migration, which the test undoes as the last one.
    const dataSource = await createDataSource({ url: db.url, entities: [], migrations: migrations.slice(0, 3) }).initialize();
    try {
      const [{ id: userId }] = await dataSource.query(
        "INSERT INTO users (email, display_name) VALUES ('old@example.com', 'Old') RETURNING id",
      );
      const [active, revoked, expired] = [randomUUID(), randomUUID(), randomUUID()];
      const token = (family: string, created: string, expires: string, used: string | null, revokedAt: string | null) =>
        dataSource.query(
          `INSERT INTO refresh_tokens (family_id, user_id, token_hash, created_at, expires_at, used_at, revoked_at)
           VALUES ($1, $2, $3, now() + $4::interval, now() + $5::interval, now() + $6::interval, now() + $7::interval)`,
          [family, userId, randomBytes(32), created, expires, used, revokedAt],
        );
      await token(active, '-3 days', '27 days', '-1 day', null);
      await token(active, '-1 day', '29 days', null, null);
      await token(revoked, '-2 days', '28 days', null, '-1 hour');
      await token(expired, '-40 days', '-10 days', null, null);

      await dataSource.runMigrations();
      const rows: { id: string; user_id: string; revoked: boolean; live: boolean }[] = await dataSource.query(
        `SELECT id, user_id, revoked_at IS NOT NULL AS revoked,
                revoked_at IS NULL AND least(expires_at, idle_expires_at) > now() AS live
         FROM sessions ORDER BY created_at`,
      );
      expect(rows).toEqual([
        { id: expired, user_id: userId, revoked: false, live: false },
        { id: active, user_id: userId, revoked: false, live: true },
        { id: revoked, user_id: userId, revoked: true, live: false },
      ]);
      // The token of the session revoked after the migration is revoked by the revert.
      await dataSource.query('UPDATE sessions SET revoked_at = now() WHERE id = $1', [active]);
      await dataSource.undoLastMigration();
      expect(await dataSource.query("SELECT to_regclass('sessions') AS t")).toEqual([{ t: null }]);
      const [{ n }] = await dataSource.query(
        'SELECT count(*)::int AS n FROM refresh_tokens WHERE family_id = $1 AND used_at IS NULL AND revoked_at IS NULL',
        [active],
      );
      expect(n).toBe(0);
    } finally {
      await dataSource.destroy();
    }
  });
});
