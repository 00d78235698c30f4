import { Metadata, status } from '@grpc/grpc-js';
import { authV1 } from '@overture/contracts';
import { readGrpcError, unary, withDeadline } from '@overture/grpc';
import { type GrpcTestService } from '@overture/testing';
import { decodeJwt } from 'jose';
import { randomUUID } from 'node:crypto';
import type { Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuthReplicas, type AuthReplicas } from './auth-harness.js';

type Client = authV1.AuthServiceClient;
type Tokens = authV1.IssueTokenResponse;
const PASSWORD = 'correct horse battery staple';
const TRIES = 25;
// Each of these races a password change against dozens of sign-ins (about a second a try).
const SIGN_IN_TRIES = 8;

/**
 * Ending a session while it refreshes: every revoke path against a client that refreshes the same
 * session in a tight loop on the other replica. A try "survives" when the revoke did not answer OK
 * or a refresh that started after the revoke answered still got new tokens.
 */
describe('ending a session while it refreshes (real PostgreSQL, two replicas)', () => {
  let auth: AuthReplicas;
  let a: GrpcTestService<Client>;
  let b: GrpcTestService<Client>;

  const bearer = (token: string): Metadata => {
    const md = new Metadata();
    md.set('authorization', `Bearer ${token}`);
    return md;
  };
  const call = <T>(on: GrpcTestService<Client>, fn: (c: Client, md: Metadata) => Observable<T>, token?: string): Promise<T> =>
    unary(fn(on.client, token ? bearer(token) : new Metadata()));
  const signUp = async () => {
    const email = `race-${randomUUID()}@example.com`;
    const { user } = await call(a, (c, md) =>
      c.register({ email, password: PASSWORD, displayName: 'Racer', clientAddress: '' }, md, withDeadline(5000)),
    );
    return { email, userId: user!.userId };
  };
  const signIn = (email: string, password = PASSWORD) =>
    call(a, (c, md) => c.issueToken({ password: { email, password }, clientAddress: '' }, md, withDeadline(5000)));
  const refresh = (refreshToken: string) =>
    call(a, (c, md) => c.issueToken({ refresh: { refreshToken }, clientAddress: '' }, md, withDeadline(5000)));
  const sidOf = (tokens: Tokens) => decodeJwt(tokens.accessToken).sid as string;

  /**
   * Refreshes `start` in a loop (each time with the newest token) until a refresh fails, then
   * reports whether one that started after `revoked()` became true succeeded.
   */
  const refreshLoop = (start: Tokens, revoked: () => boolean) => {
    let refreshes = 0;
    const done = (async () => {
      let current = start;
      for (let i = 0; i < 10_000; i++) {
        const startedAfterRevoke = revoked();
        try {
          current = await refresh(current.refreshToken);
          refreshes++;
          if (startedAfterRevoke) return { survived: true, last: current };
        } catch {
          return { survived: false, last: current };
        }
      }
      return { survived: true, last: current };
    })();
    return { done, refreshes: () => refreshes };
  };

  /** Waits until the loop has refreshed at least twice, so the revoke lands in the middle of it. */
  const warmedUp = async (loop: { refreshes(): number }) => {
    const until = Date.now() + 5_000;
    while (loop.refreshes() < 2 && Date.now() < until) await new Promise((r) => setImmediate(r));
  };

  /** Runs TRIES races of `end` against a refreshing session; returns how many sessions survived. */
  const race = async (end: (ctx: { user: { email: string; userId: string }; victim: Tokens; other: Tokens }) => Promise<unknown>) => {
    let survivors = 0;
    const details: string[] = [];
    for (let i = 0; i < TRIES; i++) {
      const user = await signUp();
      const other = await signIn(user.email);
      const victim = await signIn(user.email);
      let revoked = false;
      const loop = refreshLoop(victim, () => revoked);
      await warmedUp(loop);
      const answer = await end({ user, victim, other }).then(
        () => 'ok',
        (error: unknown) => readGrpcError(error)?.reason ?? String(error),
      );
      revoked = true;
      const { survived, last } = await loop.done;
      const listed = await call(b, (c, md) => c.listSessions({ userId: user.userId }, md, withDeadline(5000)), other.accessToken).then(
        (r) => r.sessions.map((s) => s.sessionId),
        (): string[] => [],
      );
      const stillListed = listed.includes(sidOf(victim));
      // Whatever token the loop holds last must be dead too.
      const lastRefused =
        readGrpcError(
          await refresh(last.refreshToken).then(
            () => undefined,
            (e: unknown) => e,
          ),
        )?.code === status.UNAUTHENTICATED;
      if (answer !== 'ok' || survived || stillListed || !lastRefused) {
        survivors++;
        details.push(
          `try ${i}: answer ${answer}, refreshed after revoke ${survived}, listed ${stillListed}, last token refused ${lastRefused}`,
        );
      }
    }
    return { survivors, details };
  };

  beforeAll(async () => {
    auth = await startAuthReplicas(
      'auth_races',
      {
        AUTH_SIGNIN_FREE_ATTEMPTS_PER_ADDRESS: '100000',
      },
      2,
    );
    [a, b] = auth.replicas;
  });

  afterAll(() => auth?.stop());

  it(`DELETE of a session (RevokeSession) ends it every time, in ${TRIES} tries`, async () => {
    const result = await race(({ user, victim, other }) =>
      call(b, (c, md) => c.revokeSession({ userId: user.userId, sessionId: sidOf(victim) }, md, withDeadline(5000)), other.accessToken),
    );
    expect(result).toEqual({ survivors: 0, details: [] });
  });

  it(`a password change ends the other, refreshing session every time, in ${TRIES} tries`, async () => {
    const result = await race(({ user, other }) =>
      call(
        b,
        (c, md) =>
          c.changePassword(
            { userId: user.userId, currentPassword: PASSWORD, newPassword: PASSWORD, clientAddress: '' },
            md,
            withDeadline(5000),
          ),
        other.accessToken,
      ),
    );
    expect(result).toEqual({ survivors: 0, details: [] });
  });

  it(`a sign-in with the old password racing a password change never outlives it, in ${SIGN_IN_TRIES} tries`, async () => {
    const leftovers: string[] = [];
    for (let i = 0; i < SIGN_IN_TRIES; i++) {
      const user = await signUp();
      const own = await signIn(user.email);
      const change = call(
        a,
        (c, md) =>
          c.changePassword(
            { userId: user.userId, currentPassword: PASSWORD, newPassword: `${PASSWORD} changed`, clientAddress: '' },
            md,
            withDeadline(5000),
          ),
        own.accessToken,
      );
      let changed = false;
      void change.finally(() => (changed = true));
      // Sign-ins with the old password on the other replica, started one after another for as long as
      // the change is under way: some check the password before it commits and finish after.
      const signIns: Promise<unknown>[] = [];
      while (!changed && signIns.length < 40) {
        signIns.push(
          call(b, (c, md) =>
            c.issueToken({ password: { email: user.email, password: PASSWORD }, clientAddress: '' }, md, withDeadline(5000)),
          ).catch(() => undefined),
        );
        await new Promise((r) => setTimeout(r, 5));
      }
      await change;
      await Promise.all(signIns);
      const listed = await call(b, (c, md) => c.listSessions({ userId: user.userId }, md, withDeadline(5000)), own.accessToken);
      const others = listed.sessions.map((s) => s.sessionId).filter((id) => id !== sidOf(own));
      if (others.length > 0) leftovers.push(`try ${i}: ${others.length} session(s) from the old password after ${signIns.length} sign-ins`);
    }
    expect(leftovers).toEqual([]);
  });

  it(`RFC 7009 revocation by refresh token ends the session every time, in ${TRIES} tries`, async () => {
    const result = await race(({ victim }) =>
      call(b, (c, md) => c.revokeToken({ refreshToken: victim.refreshToken }, md, withDeadline(5000))),
    );
    expect(result).toEqual({ survivors: 0, details: [] });
  });

  it(`reuse of an old refresh token ends the session every time, in ${TRIES} tries`, async () => {
    const result = await race(async ({ victim }) => {
      const reused = readGrpcError(
        await call(b, (c, md) =>
          c.issueToken({ refresh: { refreshToken: victim.refreshToken }, clientAddress: '' }, md, withDeadline(5000)),
        ).then(
          () => undefined,
          (e: unknown) => e,
        ),
      );
      // The answer to the replayed token is REFRESH_TOKEN_REUSED; anything else is a failed revoke.
      if (reused?.reason !== 'REFRESH_TOKEN_REUSED') throw new Error(`replay answered ${reused?.reason ?? 'OK'}`);
    });
    expect(result).toEqual({ survivors: 0, details: [] });
  });
});
