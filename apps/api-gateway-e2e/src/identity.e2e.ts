import { Metadata, status } from '@grpc/grpc-js';
import { PLAYBACK_V1, playbackV1 } from '@overture/contracts';
import { createGrpcClient, readGrpcError, unary, withDeadline } from '@overture/grpc';
import { testTransport } from '@overture/testing';
import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { ErrorBody } from '@overture/gateway-contract';
import { apiClient, startSuite, type RunningSuite } from './suite-fixture.js';

interface TokenJson {
  access_token: string;
  refresh_token: string;
}
interface PolicyJson {
  version: number;
  roles: Record<string, string[]>;
  permissions: string[];
}

const PASSWORD = 'correct horse battery staple';
// Policy changes reach the gateway and the services through the policy stream; this bounds the wait.
const WITHIN_A_SECOND = { timeout: 3_000, interval: 20 };

describe('accounts, sessions, roles and live policy, end to end', () => {
  let running: RunningSuite;
  let api: ReturnType<typeof apiClient>;
  let adminToken: string;

  const reasonOf = (response: { body: unknown }) => (response.body as ErrorBody).error?.reason;
  const signUp = async () => {
    const email = `id-${randomUUID()}@example.com`;
    const registered = await api<{ id: string }>('POST', '/v1/auth/register', { body: { email, password: PASSWORD, display_name: 'Ada' } });
    expect(registered.status).toBe(201);
    return { email, userId: registered.body.id };
  };
  const signIn = async (email: string, password = PASSWORD) => {
    const response = await api<TokenJson>('POST', '/v1/auth/token', { body: { grant_type: 'password', username: email, password } });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body;
  };

  beforeAll(async () => {
    running = await startSuite(inject('postgresServerUrl'), { demoTracks: 50 });
    api = apiClient(running.baseUrl);
    // The first admin is made with the auth command, as an operator would.
    const admin = await signUp();
    await running.suite.runCommand('auth', ['grant-role', admin.email, 'admin']);
    adminToken = (await signIn(admin.email)).access_token;
    expect(decodeJwt(adminToken).roles).toEqual(['listener', 'admin']);
  });

  afterAll(async () => {
    await running?.stop();
  });

  it('registers an email pasted with spaces and capitals as the address itself, once', async () => {
    const local = `Trim-${randomUUID()}`;
    const registered = await api<{ email: string }>('POST', '/v1/auth/register', {
      body: { email: `  ${local}@Example.com `, password: PASSWORD, display_name: 'Ada' },
    });
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    expect(registered.body.email).toBe(`${local.toLowerCase()}@example.com`);
    await signIn(`${local.toLowerCase()}@example.com`);
    const again = await api('POST', '/v1/auth/register', {
      body: { email: `${local}@example.com`, password: PASSWORD, display_name: 'Ada' },
    });
    expect(again.status).toBe(409);
  });

  it('lists sessions, marks the current one, and ends one on request', async () => {
    const { email } = await signUp();
    const phone = await signIn(email);
    const laptop = await signIn(email);
    const listed = await api<{ sessions: { id: string; current: boolean }[] }>('GET', '/v1/me/sessions', { token: phone.access_token });
    expect(listed.status).toBe(200);
    expect(listed.body.sessions.map((s) => s.id).sort()).toEqual(
      [decodeJwt(phone.access_token).sid, decodeJwt(laptop.access_token).sid].sort(),
    );
    expect(listed.body.sessions.find((s) => s.current)?.id).toBe(decodeJwt(phone.access_token).sid);
    expect(
      (await api('DELETE', `/v1/me/sessions/${String(decodeJwt(laptop.access_token).sid)}`, { token: phone.access_token })).status,
    ).toBe(204);
    await vi.waitFor(
      async () => expect(reasonOf(await api('GET', '/v1/me', { token: laptop.access_token }))).toBe('SESSION_REVOKED'),
      WITHIN_A_SECOND,
    );
    const after = await api<{ sessions: unknown[] }>('GET', '/v1/me/sessions', { token: phone.access_token });
    expect(after.body.sessions).toHaveLength(1);
  });

  it('signs out with POST /v1/auth/revoke (RFC 7009), which also accepts unknown tokens', async () => {
    const { email } = await signUp();
    const tokens = await signIn(email);
    expect((await api('POST', '/v1/auth/revoke', { body: { token: tokens.refresh_token } })).status).toBe(200);
    expect((await api('POST', '/v1/auth/revoke', { body: { token: 'never-issued' } })).status).toBe(200);
    const refreshed = await api('POST', '/v1/auth/token', { body: { grant_type: 'refresh_token', refresh_token: tokens.refresh_token } });
    expect(refreshed.status).toBe(401);
    await vi.waitFor(
      async () => expect(reasonOf(await api('GET', '/v1/me', { token: tokens.access_token }))).toBe('SESSION_REVOKED'),
      WITHIN_A_SECOND,
    );
  });

  it('changes the password: other sessions end, this one goes on, the old password stops working', async () => {
    const { email } = await signUp();
    const here = await signIn(email);
    const there = await signIn(email);
    const wrong = await api('PUT', '/v1/me/password', {
      token: here.access_token,
      body: { current_password: 'nope', new_password: 'brand new passphrase' },
    });
    expect(wrong.status).toBe(401);
    const changed = await api('PUT', '/v1/me/password', {
      token: here.access_token,
      body: { current_password: PASSWORD, new_password: 'brand new passphrase' },
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(204);
    await vi.waitFor(
      async () => expect(reasonOf(await api('GET', '/v1/me', { token: there.access_token }))).toBe('SESSION_REVOKED'),
      WITHIN_A_SECOND,
    );
    expect((await api('GET', '/v1/me', { token: here.access_token })).status).toBe(200);
    const old = await api('POST', '/v1/auth/token', { body: { grant_type: 'password', username: email, password: PASSWORD } });
    expect(old.status).toBe(401);
    await signIn(email, 'brand new passphrase');
  });

  it('deletes the account: its tokens stop working and the email can register again', async () => {
    const { email } = await signUp();
    const tokens = await signIn(email);
    expect((await api('DELETE', '/v1/me', { token: tokens.access_token, body: { password: PASSWORD } })).status).toBe(204);
    await vi.waitFor(async () => expect((await api('GET', '/v1/me', { token: tokens.access_token })).status).toBe(401), WITHIN_A_SECOND);
    const again = await api('POST', '/v1/auth/register', { body: { email, password: PASSWORD, display_name: 'Ada again' } });
    expect(again.status).toBe(201);
  });

  it('grants a role: the old token is refused as stale, a refreshed one carries the role; the security log shows it', async () => {
    const { email, userId } = await signUp();
    const tokens = await signIn(email);
    const granted = await api<{ roles: string[] }>('PUT', `/v1/admin/users/${userId}/roles/curator`, { token: adminToken });
    expect(granted.status, JSON.stringify(granted.body)).toBe(200);
    expect(granted.body.roles).toEqual(['listener', 'curator']);
    await vi.waitFor(
      async () => expect(reasonOf(await api('GET', '/v1/me', { token: tokens.access_token }))).toBe('ROLES_CHANGED'),
      WITHIN_A_SECOND,
    );
    const refreshed = await api<TokenJson>('POST', '/v1/auth/token', {
      body: { grant_type: 'refresh_token', refresh_token: tokens.refresh_token },
    });
    expect(decodeJwt(refreshed.body.access_token).roles).toEqual(['listener', 'curator']);
    expect((await api('GET', '/v1/me', { token: refreshed.body.access_token })).status).toBe(200);
    const log = await api<{ events: { kind: string; actor_user_id: string | null; detail: Record<string, unknown> }[] }>(
      'GET',
      `/v1/admin/security-events?user_id=${userId}`,
      { token: adminToken },
    );
    expect(log.status).toBe(200);
    expect(log.body.events.map((e) => e.kind)).toEqual(expect.arrayContaining(['SIGN_IN', 'ROLE_GRANTED']));
    expect(log.body.events.find((e) => e.kind === 'ROLE_GRANTED')?.detail).toEqual({ role: 'curator' });
  });

  it('a role→permission change is enforced at the gateway within a second, without a restart, and can be undone', async () => {
    const listener = await signIn((await signUp()).email);
    expect((await api('GET', '/v1/recommendations?limit=3', { token: listener.access_token })).status).toBe(200);
    const before = await api<PolicyJson>('GET', '/v1/admin/policy', { token: adminToken });
    expect(before.body.roles.listener).toContain('recommendations:read');
    const without = before.body.roles.listener!.filter((p) => p !== 'recommendations:read');
    const changed = await api<PolicyJson>('PUT', '/v1/admin/policy/roles/listener', { token: adminToken, body: { permissions: without } });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body.version).toBeGreaterThan(before.body.version);
    try {
      await vi.waitFor(async () => {
        const denied = await api('GET', '/v1/recommendations?limit=3', { token: listener.access_token });
        expect(denied.status).toBe(403);
        expect(reasonOf(denied)).toBe('PERMISSION_DENIED');
      }, WITHIN_A_SECOND);
      // Other permissions of the role are untouched.
      expect((await api('GET', '/v1/me/player/queue', { token: listener.access_token })).status).toBe(200);
    } finally {
      await api('PUT', '/v1/admin/policy/roles/listener', { token: adminToken, body: { permissions: before.body.roles.listener } });
    }
    await vi.waitFor(
      async () => expect((await api('GET', '/v1/recommendations?limit=3', { token: listener.access_token })).status).toBe(200),
      WITHIN_A_SECOND,
    );
    const unknown = await api('PUT', '/v1/admin/policy/roles/listener', { token: adminToken, body: { permissions: ['rockets:launch'] } });
    expect(unknown.status).toBe(400);
  });

  it('a permission taken away is enforced by the gateway and by the service itself within a second, then restored', async () => {
    const { email, userId } = await signUp();
    const listener = await signIn(email);
    const playback = createGrpcClient<playbackV1.PlaybackServiceClient>({
      contract: PLAYBACK_V1,
      serviceName: playbackV1.PLAYBACK_SERVICE_NAME,
      url: `127.0.0.1:${running.suite.options.ports['playback-queue']}`,
      transport: testTransport('api-gateway'),
    });
    // The service is called directly, as something that got past the gateway would: it checks the caller itself.
    const serviceStatus = async (): Promise<number> => {
      const md = new Metadata();
      md.set('authorization', `Bearer ${listener.access_token}`);
      return unary(playback.service.getQueue({ userId }, md, withDeadline(2_000))).then(
        () => status.OK,
        (error: unknown) => readGrpcError(error)?.code ?? -1,
      );
    };
    try {
      expect(await serviceStatus()).toBe(status.OK);
      const before = (await api<PolicyJson>('GET', '/v1/admin/policy', { token: adminToken })).body.roles.listener!;
      const changed = await api('PUT', '/v1/admin/policy/roles/listener', {
        token: adminToken,
        body: { permissions: before.filter((p) => p !== 'player:read') },
      });
      expect(changed.status).toBe(200);
      try {
        await vi.waitFor(async () => {
          expect((await api('GET', '/v1/me/player/queue', { token: listener.access_token })).status).toBe(403);
          expect(await serviceStatus()).toBe(status.PERMISSION_DENIED);
        }, WITHIN_A_SECOND);
      } finally {
        await api('PUT', '/v1/admin/policy/roles/listener', { token: adminToken, body: { permissions: before } });
      }
      await vi.waitFor(async () => {
        expect((await api('GET', '/v1/me/player/queue', { token: listener.access_token })).status).toBe(200);
        expect(await serviceStatus()).toBe(status.OK);
      }, WITHIN_A_SECOND);
      // Without a token, or naming another user, the service refuses whatever the policy.
      const anonymous = await unary(playback.service.getQueue({ userId }, new Metadata(), withDeadline(2_000))).then(
        () => status.OK,
        (e: unknown) => readGrpcError(e)?.code,
      );
      expect(anonymous).toBe(status.UNAUTHENTICATED);
    } finally {
      playback.close();
    }
  });
});
