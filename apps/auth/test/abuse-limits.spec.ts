import { Metadata, status } from '@grpc/grpc-js';
import { authV1 } from '@overture/contracts';
import { readGrpcError, unary, withDeadline } from '@overture/grpc';
import { type GrpcTestService } from '@overture/testing';
import { randomUUID } from 'node:crypto';
import type { Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuthReplicas, type AuthReplicas } from './auth-harness.js';

type Client = authV1.AuthServiceClient;
const PASSWORD = 'correct horse battery staple';
const FREE_PER_ACCOUNT = 5;
const ACCOUNT_CEILING = 30;
const FREE_REGISTRATIONS = 3;
// The back-off lets one more attempt in after the free ones, then blocks the key: a key's limit is free + 1.
const LIMIT = FREE_PER_ACCOUNT + 1;

describe('abuse limits: atomic sign-in throttling, per-address registration, bounded hashing (real PostgreSQL, two replicas)', () => {
  let auth: AuthReplicas;
  let a: GrpcTestService<Client>;
  let b: GrpcTestService<Client>;

  const call = <T>(on: GrpcTestService<Client>, fn: (c: Client, md: Metadata) => Observable<T>): Promise<T> =>
    unary(fn(on.client, new Metadata()));
  const outcome = (promise: Promise<unknown>): Promise<string> =>
    promise.then(
      () => 'OK',
      (error: unknown) => readGrpcError(error)?.reason ?? String(error),
    );
  const register = (email: string, clientAddress = '', on = a) =>
    call(on, (c, md) => c.register({ email, password: PASSWORD, displayName: 'Owner', clientAddress }, md, withDeadline(10_000)));
  const signIn = (email: string, password: string, clientAddress: string, on = a) =>
    call(on, (c, md) => c.issueToken({ password: { email, password }, clientAddress }, md, withDeadline(10_000)));
  const tally = (outcomes: string[]) => outcomes.reduce<Record<string, number>>((acc, o) => ({ ...acc, [o]: (acc[o] ?? 0) + 1 }), {});

  beforeAll(async () => {
    auth = await startAuthReplicas(
      'auth_abuse',
      {
        AUTH_SIGNIN_FREE_ATTEMPTS_PER_ACCOUNT: String(FREE_PER_ACCOUNT),
        AUTH_SIGNIN_ACCOUNT_CEILING: String(ACCOUNT_CEILING),
        AUTH_SIGNIN_FREE_ATTEMPTS_PER_ADDRESS: '1000',
        AUTH_REGISTER_FREE_ATTEMPTS_PER_ADDRESS: String(FREE_REGISTRATIONS),
        // Enough room that the bursts below are decided by the throttle, not by the hashing bound.
        AUTH_ARGON2_MAX_QUEUED: '200',
      },
      2,
    );
    [a, b] = auth.replicas;
  });

  afterAll(() => auth?.stop());

  it(`a parallel burst of 40 wrong passwords over two replicas checks at most ${LIMIT} of them, 5 times over`, async () => {
    for (let round = 0; round < 5; round++) {
      const { email } = { email: `burst-${randomUUID()}@example.com` };
      await register(email);
      const started = Date.now();
      const outcomes = await Promise.all(
        Array.from({ length: 40 }, (_, i) => outcome(signIn(email, `guess-${i}`, '198.51.100.7', i % 2 ? a : b))),
      );
      // Past the free attempts, each admitted one blocks the key for 1, 2, 4 … s: a burst that outlasts
      // a block (a loaded machine) rightly gets one more guess per block that ran out, never more.
      const expiredBlocks = Math.floor(Math.log2((Date.now() - started) / 1000 + 1));
      const counts = tally(outcomes);
      expect(counts.INVALID_CREDENTIALS, JSON.stringify(counts)).toBeGreaterThanOrEqual(LIMIT);
      expect(counts.INVALID_CREDENTIALS, JSON.stringify(counts)).toBeLessThanOrEqual(LIMIT + expiredBlocks);
      expect(counts.TOO_MANY_SIGN_IN_ATTEMPTS, JSON.stringify(counts)).toBe(40 - counts.INVALID_CREDENTIALS!);
      // The log agrees: only the admitted guesses were checked.
      const [{ failed }] = await a.dataSource.query(
        "SELECT count(*)::int AS failed FROM security_events WHERE kind = 'SIGN_IN_FAILED' AND detail->>'email' = $1",
        [email],
      );
      expect(failed).toBe(counts.INVALID_CREDENTIALS);
    }
  });

  it("a stranger's guesses from another address never lock the owner out", async () => {
    const email = `owner-${randomUUID()}@example.com`;
    await register(email);
    const stranger = await Promise.all(Array.from({ length: 20 }, (_, i) => outcome(signIn(email, `guess-${i}`, '203.0.113.66'))));
    expect(tally(stranger)).toEqual({ INVALID_CREDENTIALS: LIMIT, TOO_MANY_SIGN_IN_ATTEMPTS: 20 - LIMIT });
    // The stranger stays blocked, even with the right password; the owner, from their own address, is not.
    expect(await outcome(signIn(email, PASSWORD, '203.0.113.66'))).toBe('TOO_MANY_SIGN_IN_ATTEMPTS');
    await expect(signIn(email, PASSWORD, '192.0.2.10')).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('guesses spread over many addresses stop at the per-account ceiling, for every address', async () => {
    const email = `target-${randomUUID()}@example.com`;
    await register(email);
    // Each address stays under its own limit; together they pass the account's ceiling.
    const outcomes: string[] = [];
    for (let address = 0; address < 12; address++) {
      for (let i = 0; i < 3; i++) outcomes.push(await outcome(signIn(email, `guess-${address}-${i}`, `198.18.0.${address}`)));
    }
    expect(outcomes.filter((o) => o === 'INVALID_CREDENTIALS')).toHaveLength(ACCOUNT_CEILING + 1);
    expect(await outcome(signIn(email, PASSWORD, '192.0.2.99'))).toBe('TOO_MANY_SIGN_IN_ATTEMPTS');
  });

  it(`throttles registration per client address: ${FREE_REGISTRATIONS + 1} of a parallel burst of 12 get through, then 429 with a wait`, async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, i) => outcome(register(`signup-${i}-${randomUUID()}@example.com`, '198.51.100.200', i % 2 ? a : b))),
    );
    expect(tally(outcomes)).toEqual({ OK: FREE_REGISTRATIONS + 1, TOO_MANY_REGISTRATIONS: 12 - FREE_REGISTRATIONS - 1 });
    const refused = await register(`late-${randomUUID()}@example.com`, '198.51.100.200').then(
      () => undefined,
      (e: unknown) => e as { code: number; metadata: Metadata },
    );
    expect(readGrpcError(refused)).toMatchObject({ code: status.RESOURCE_EXHAUSTED, reason: 'TOO_MANY_REGISTRATIONS' });
    expect(Number(refused!.metadata.get('retry-after')[0])).toBeGreaterThanOrEqual(1);
    // Another address is not affected.
    await expect(register(`other-${randomUUID()}@example.com`, '198.51.100.201')).resolves.toMatchObject({ user: expect.anything() });
  });

  it('trims and lower-cases the email at registration, so sign-in finds the account', async () => {
    const email = `trim-${randomUUID()}@example.com`;
    const { user } = await register(` \t${email.toUpperCase()}  `);
    expect(user?.email).toBe(email);
    await expect(signIn(email, PASSWORD, '192.0.2.50')).resolves.toMatchObject({ tokenType: 'Bearer' });
  });
});

describe('bounded password hashing (real gRPC)', () => {
  let auth: AuthReplicas;
  let service: GrpcTestService<Client>;

  beforeAll(async () => {
    auth = await startAuthReplicas(
      'auth_hashing',
      {
        AUTH_ARGON2_MAX_CONCURRENT: '1',
        AUTH_ARGON2_MAX_QUEUED: '2',
      },
      1,
    );
    [service] = auth.replicas;
  });

  afterAll(() => auth?.stop());

  it('a flood of registrations from many addresses hashes at most 3 at a time and turns the rest away with a reason and a wait', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        unary(
          service.client.register(
            { email: `flood-${i}-${randomUUID()}@example.com`, password: PASSWORD, displayName: 'Flood', clientAddress: `198.51.100.${i}` },
            new Metadata(),
            withDeadline(10_000),
          ),
        ).then(
          () => 'OK',
          (e: unknown) => e as { code: number; metadata: Metadata },
        ),
      ),
    );
    const refused = results.filter((r): r is { code: number; metadata: Metadata } => r !== 'OK');
    expect(results.length - refused.length).toBeGreaterThanOrEqual(3);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(readGrpcError(r)).toMatchObject({ code: status.RESOURCE_EXHAUSTED, reason: 'PASSWORD_HASHING_BUSY' });
      expect(r.metadata.get('retry-after')).toEqual(['1']);
    }
  });
});
