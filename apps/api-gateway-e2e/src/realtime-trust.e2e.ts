import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { Replica } from '../../../tools/suite/suite.ts';
import { apiClient, startSuite, type RunningSuite } from './suite-fixture.js';
import { Device } from './ws-device.js';

const PASSWORD = 'correct horse battery staple';
// The promise of docs/playback.md: a policy change closes the sockets it concerns within a second.
const WITHIN_A_SECOND = 1_000;

/** The HTTP status of a refused handshake, or 101 if it was accepted (then closed again). */
async function handshakeStatus(gatewayUrl: string, token?: string): Promise<number> {
  const ws = Device.open(gatewayUrl, token);
  ws.on('error', () => undefined);
  const outcome = await Promise.race([
    once(ws, 'unexpected-response').then(([, response]) => (response as { statusCode: number }).statusCode),
    once(ws, 'open').then(() => 101),
  ]);
  ws.terminate();
  return outcome;
}

describe('real-time trust: sockets end with their session, roles or permission; limits per user, address and message', () => {
  let running: RunningSuite;
  let api: ReturnType<typeof apiClient>;
  let adminToken: string;
  // A second gateway with small limits, so they are reached with a handful of sockets.
  let limited: Replica;
  const devices: Device[] = [];

  const signUp = async () => {
    const email = `rt-${randomUUID()}@example.com`;
    const registered = await api<{ id: string }>('POST', '/v1/auth/register', { body: { email, password: PASSWORD, display_name: 'Rt' } });
    expect(registered.status).toBe(201);
    return { email, userId: registered.body.id };
  };
  const signIn = async (email: string) => {
    const response = await api<{ access_token: string }>('POST', '/v1/auth/token', {
      body: { grant_type: 'password', username: email, password: PASSWORD },
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body.access_token;
  };
  const connect = async (url: string, token?: string): Promise<Device> => {
    const device = await Device.connect(url, token);
    devices.push(device);
    return device;
  };
  const ready = (device: Device) => device.next((m) => m.type === 'ready', 'ready');
  const someTrack = async (token: string) =>
    (await api<{ tracks: { id: string }[] }>('GET', '/v1/search?limit=1', { token })).body.tracks[0]!.id;

  beforeAll(async () => {
    running = await startSuite(inject('postgresServerUrl'), { demoTracks: 50 });
    api = apiClient(running.baseUrl);
    const admin = await signUp();
    await running.suite.runCommand('auth', ['grant-role', admin.email, 'admin']);
    adminToken = await signIn(admin.email);
    limited = await running.suite.startReplica('api-gateway', 2, {
      env: {
        WS_MAX_CONNECTIONS_PER_USER: '2',
        WS_MAX_CONNECTIONS_PER_ADDRESS: '6',
        WS_AUTH_TIMEOUT_MS: '300',
        WS_MESSAGE_BURST: '5',
        WS_MESSAGES_PER_SECOND: '1',
      },
    });
  });

  afterAll(async () => {
    for (const device of devices) device.ws.terminate();
    await running?.stop();
  });

  it("closes a revoked session's socket within a second, and sends it nothing the gateway knows to be revoked", async () => {
    const { email } = await signUp();
    const phoneToken = await signIn(email);
    const laptopToken = await signIn(email);
    const phone = await connect(running.baseUrl, phoneToken);
    const laptop = await connect(running.baseUrl, laptopToken);
    await Promise.all([ready(phone), ready(laptop)]);

    // The phone edits the queue one change after another all along; each edit remembers when it started.
    const track = await someTrack(phoneToken);
    const edits: { startedAt: number; version: number }[] = [];
    let editing = true;
    const editor = (async () => {
      while (editing) {
        const startedAt = Date.now();
        const added = await api<{ version: number }>('POST', '/v1/me/player/queue', { token: phoneToken, body: { track_ids: [track] } });
        expect(added.status).toBe(201);
        edits.push({ startedAt, version: added.body.version });
      }
    })();
    try {
      await laptop.next((m) => m.type === 'queue.changed', 'the laptop receives edits before the revoke');

      const revoked = await api('DELETE', `/v1/me/sessions/${String(decodeJwt(laptopToken).sid)}`, { token: phoneToken });
      expect(revoked.status).toBe(204);
      const revokedAt = Date.now();
      // From the moment the gateway refuses the token over REST, its policy has the revocation.
      await vi.waitFor(
        async () =>
          expect((await api<{ error: { reason: string } }>('GET', '/v1/me', { token: laptopToken })).body.error?.reason).toBe(
            'SESSION_REVOKED',
          ),
        { timeout: 5_000, interval: 10 },
      );
      const knownAt = Date.now();
      const closed = await laptop.whenClosed(5_000);
      expect(closed).toMatchObject({ code: 4401, reason: 'SESSION_REVOKED' });
      expect(closed.at - revokedAt).toBeLessThan(WITHIN_A_SECOND);

      // Edits keep flowing to the phone after the laptop was cut off.
      await vi.waitFor(() => expect(edits.filter((e) => e.startedAt > knownAt).length).toBeGreaterThanOrEqual(3), {
        timeout: 10_000,
        interval: 10,
      });
      const later = edits.filter((e) => e.startedAt > knownAt);
      await phone.next((m) => m.type === 'queue.changed' && m.version === later[2]!.version, 'the phone still receives edits');
      // Nothing from an edit made after the gateway knew reached the laptop.
      const firstUnknowable = Math.min(...later.map((e) => e.version));
      const received = laptop.messages.filter((m) => m.type === 'queue.changed').map((m) => m.version ?? 0);
      expect(received.filter((v) => v >= firstUnknowable)).toEqual([]);
    } finally {
      editing = false;
      await editor;
    }
    await phone.close();
  });

  it("closes the socket when the account's roles change (4401 ROLES_CHANGED), within a second", async () => {
    const { email, userId } = await signUp();
    const device = await connect(running.baseUrl, await signIn(email));
    await ready(device);
    const granted = await api('PUT', `/v1/admin/users/${userId}/roles/curator`, { token: adminToken });
    expect(granted.status).toBe(200);
    const grantedAt = Date.now();
    const closed = await device.whenClosed(5_000);
    expect(closed).toMatchObject({ code: 4401, reason: 'ROLES_CHANGED' });
    expect(closed.at - grantedAt).toBeLessThan(WITHIN_A_SECOND);
    // A fresh token carries the new roles and connects.
    const fresh = await connect(running.baseUrl, await signIn(email));
    await ready(fresh);
    await fresh.close();
  });

  it('closes the socket when player:read is taken from its role (4403), and refuses the handshake 403 until it is back', async () => {
    const { email } = await signUp();
    const token = await signIn(email);
    const device = await connect(running.baseUrl, token);
    await ready(device);
    const before = (await api<{ roles: Record<string, string[]> }>('GET', '/v1/admin/policy', { token: adminToken })).body.roles.listener!;
    expect(before).toContain('player:read');
    try {
      const changed = await api('PUT', '/v1/admin/policy/roles/listener', {
        token: adminToken,
        body: { permissions: before.filter((p) => p !== 'player:read') },
      });
      expect(changed.status).toBe(200);
      const changedAt = Date.now();
      const closed = await device.whenClosed(5_000);
      expect(closed).toMatchObject({ code: 4403, reason: 'PERMISSION_DENIED' });
      expect(closed.at - changedAt).toBeLessThan(WITHIN_A_SECOND);
      expect(await handshakeStatus(running.baseUrl, token)).toBe(403);
    } finally {
      expect((await api('PUT', '/v1/admin/policy/roles/listener', { token: adminToken, body: { permissions: before } })).status).toBe(200);
    }
    await vi.waitFor(async () => expect(await handshakeStatus(running.baseUrl, token)).toBe(101), { timeout: 5_000, interval: 20 });
  });

  it('caps connections per account (429, or 4430 on a late auth) and per address (429)', async () => {
    const ann = await signIn((await signUp()).email);
    const bob = await signIn((await signUp()).email);
    const opened = [await connect(limited.url, ann), await connect(limited.url, ann)];
    await Promise.all(opened.map(ready));
    expect(await handshakeStatus(limited.url, ann)).toBe(429);
    opened.push(await connect(limited.url, bob), await connect(limited.url, bob));
    const late = await connect(limited.url);
    late.send({ type: 'auth', token: ann });
    expect((await late.whenClosed()).code).toBe(4430);
    opened.push(await connect(limited.url), await connect(limited.url));
    // Six open from 127.0.0.1: the address is full, with or without a token.
    expect(await handshakeStatus(limited.url)).toBe(429);
    expect(await handshakeStatus(limited.url, await signIn((await signUp()).email))).toBe(429);

    for (const device of opened) await device.close();
    await vi.waitFor(async () => expect(await handshakeStatus(limited.url, ann)).toBe(101), { timeout: 5_000, interval: 20 });
  });

  it('closes a socket that has not authenticated within WS_AUTH_TIMEOUT_MS (300 ms here)', async () => {
    const openedAt = Date.now();
    const silent = await connect(limited.url);
    const closed = await silent.whenClosed(5_000);
    expect(closed.code).toBe(4401);
    expect(closed.at - openedAt).toBeGreaterThanOrEqual(290);
    expect(closed.at - openedAt).toBeLessThan(2_000);
  });

  it('rate-limits client messages: a resume over the allowance is not handled, and a client that keeps going is closed (4431)', async () => {
    const device = await connect(limited.url, await signIn((await signUp()).email));
    await ready(device);
    // Burst 5, resume costs 5: the first is answered, the second is refused.
    device.send({ type: 'resume', queue_version: null, state_version: null });
    device.send({ type: 'resume', queue_version: null, state_version: null });
    const limitedError = await device.next((m) => m.type === 'error', 'RATE_LIMITED');
    expect(limitedError).toMatchObject({ reason: 'RATE_LIMITED', retry_after_ms: expect.any(Number) });
    await device.next((m) => m.type === 'resumed', 'the first resume answered');
    for (let i = 0; i < 6; i++) device.send({ type: 'ping' });
    expect((await device.whenClosed()).code).toBe(4431);
    expect(device.messages.filter((m) => m.type === 'resumed')).toHaveLength(1);
  });
});
