import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { ErrorBody } from '@overture/gateway-contract';
import { apiClient, startSuite, type ApiResponse, type RunningSuite } from './suite-fixture.js';

interface TokenJson {
  access_token: string;
  refresh_token: string;
}

const PASSWORD = 'correct horse battery staple';
const TRIES = 12;
// Revocations reach the gateway through the policy stream; this bounds the wait, it is not a sleep.
const WITHIN_SECONDS = { timeout: 3_000, interval: 25 };

/**
 * Ending a session while the same session refreshes in a loop, through the gateway as clients do:
 * every way of ending it must answer success and leave nothing that refreshes or authenticates.
 */
describe('ending a session while it refreshes, end to end', () => {
  let running: RunningSuite;
  let api: ReturnType<typeof apiClient>;

  const reasonOf = (response: ApiResponse) => (response.body as ErrorBody).error?.reason;
  const signUp = async () => {
    const email = `race-${randomUUID()}@example.com`;
    const registered = await api('POST', '/v1/auth/register', { body: { email, password: PASSWORD, display_name: 'Racer' } });
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    return email;
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

  /**
   * Races `end` against the victim session refreshing in a loop, TRIES times; returns a line per try
   * that left the session alive (the answer was not the expected one, a refresh started after the answer
   * succeeded, the last refresh token still works, or the last access token was not refused).
   */
  const race = async (
    email: string,
    expected: { status: number; reason?: string },
    end: (victim: TokenJson, other: TokenJson) => Promise<ApiResponse>,
  ) => {
    const survivors: string[] = [];
    for (let i = 0; i < TRIES; i++) {
      const other = await signIn(email);
      const victim = await signIn(email);
      let answered = false;
      let refreshes = 0;
      const loop = (async () => {
        let current = victim;
        for (let n = 0; n < 1_000; n++) {
          const startedAfterAnswer = answered;
          const next = await refresh(current.refresh_token);
          if (next.status !== 200) return { current, afterAnswer: false };
          current = next.body;
          refreshes++;
          if (startedAfterAnswer) return { current, afterAnswer: true };
        }
        return { current, afterAnswer: true };
      })();
      await vi.waitFor(() => expect(refreshes).toBeGreaterThanOrEqual(2), WITHIN_SECONDS);
      const answer = await end(victim, other);
      answered = true;
      const { current, afterAnswer } = await loop;
      const lastRefresh = await refresh(current.refresh_token);
      const refused = await vi
        .waitFor(
          async () => expect(reasonOf(await api('GET', '/v1/me', { token: current.access_token }))).toBe('SESSION_REVOKED'),
          WITHIN_SECONDS,
        )
        .then(
          () => true,
          () => false,
        );
      const answerOk = answer.status === expected.status && (!expected.reason || reasonOf(answer) === expected.reason);
      if (!answerOk || afterAnswer || lastRefresh.status === 200 || !refused) {
        survivors.push(
          `try ${i}: answer ${answer.status} ${reasonOf(answer) ?? ''}, refreshed after it ${afterAnswer}, last token ${lastRefresh.status}, access refused ${refused}`,
        );
      }
    }
    return survivors;
  };

  beforeAll(async () => {
    running = await startSuite(inject('postgresServerUrl'), { demoTracks: 10 });
    api = apiClient(running.baseUrl);
  });

  afterAll(async () => {
    await running?.stop();
  });

  it(`DELETE /v1/me/sessions/{id} ends the refreshing session every time (${TRIES} tries)`, async () => {
    const email = await signUp();
    const survivors = await race(email, { status: 204 }, (victim, other) =>
      api('DELETE', `/v1/me/sessions/${String(decodeJwt(victim.access_token).sid)}`, { token: other.access_token }),
    );
    expect(survivors).toEqual([]);
  });

  it(`PUT /v1/me/password ends the other, refreshing session every time (${TRIES} tries)`, async () => {
    const email = await signUp();
    const survivors = await race(email, { status: 204 }, (_, other) =>
      api('PUT', '/v1/me/password', { token: other.access_token, body: { current_password: PASSWORD, new_password: PASSWORD } }),
    );
    expect(survivors).toEqual([]);
  });

  it(`POST /v1/auth/revoke ends the refreshing session every time (${TRIES} tries)`, async () => {
    const email = await signUp();
    const survivors = await race(email, { status: 200 }, (victim) =>
      api('POST', '/v1/auth/revoke', { body: { token: victim.refresh_token } }),
    );
    expect(survivors).toEqual([]);
  });

  it(`replaying a used refresh token ends the refreshing session every time (${TRIES} tries)`, async () => {
    const email = await signUp();
    const survivors = await race(email, { status: 401, reason: 'REFRESH_TOKEN_REUSED' }, (victim) => refresh(victim.refresh_token));
    expect(survivors).toEqual([]);
  });
});
