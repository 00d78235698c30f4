import type { HttpAdapterHost } from '@nestjs/core';
import { playbackV1 } from '@overture/contracts';
import type { Principal } from '@overture/identity';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Subject } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import type { PlaybackClient } from '../downstream/playback.client.js';
import type { GatewayConfig } from '../gateway.config.js';
import { GatewayLifecycle } from '../health/gateway-lifecycle.js';
import type { PlaybackEventStream } from './playback-event.stream.js';
import { RealtimeServer } from './realtime.server.js';
import { SocketAuthError, type Refusal, type SocketAuthenticator, type SocketIdentity } from './socket-authenticator.js';

const {
  PLAYBACK_EVENT_KIND_QUEUE_CHANGED: QUEUE_CHANGED,
  PLAYBACK_EVENT_KIND_STATE_CHANGED: STATE_CHANGED,
  PLAYBACK_EVENT_KIND_RESYNC: RESYNC,
} = playbackV1.PlaybackEventKind;

// Only the user id matters here; the rest of the principal is the identity lib's business.
const principal = (userId: string): Principal =>
  ({ userId, sessionId: 's', tokenId: 't', roles: ['listener'] }) as Partial<Principal> as Principal;

/**
 * Tokens are "<user>" or "<user>.<expires at, epoch ms>"; "bad" is refused. The live policy is two
 * sets (users whose session was revoked, users without player:read) and `announce()` plays a change.
 */
class FakeAuthenticator {
  readonly revokedUsers = new Set<string>();
  readonly deniedUsers = new Set<string>();
  private readonly listeners = new Set<() => void>();

  async authenticate(token: string): Promise<SocketIdentity> {
    if (token === 'bad') throw new SocketAuthError('INVALID_TOKEN', 'the access token is not valid');
    const [userId = '', expiresAt] = token.split('.');
    const identity = { principal: principal(userId), expiresAt: expiresAt ? Number(expiresAt) : Number.POSITIVE_INFINITY };
    const refusal = this.refusal(identity);
    if (refusal) throw new SocketAuthError(refusal.reason, 'refused', refusal.code === 4403 ? 403 : 401);
    return identity;
  }

  refusal(identity: SocketIdentity, now = Date.now()): Refusal | undefined {
    if (identity.expiresAt <= now) return { code: 4401, reason: 'TOKEN_EXPIRED' };
    if (this.revokedUsers.has(identity.principal.userId)) return { code: 4401, reason: 'SESSION_REVOKED' };
    if (this.deniedUsers.has(identity.principal.userId)) return { code: 4403, reason: 'PERMISSION_DENIED' };
    return undefined;
  }

  onPolicyChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  announce(): void {
    for (const listener of this.listeners) listener();
  }
}

interface Message {
  type: string;
  version?: number;
  reason?: string;
  queue?: unknown;
  retry_after_ms?: number;
}

class Client {
  readonly messages: Message[] = [];
  closed: { code: number; reason: string } | undefined;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.messages.push(JSON.parse(String(data)) as Message));
    ws.on('close', (code, reason) => (this.closed = { code, reason: String(reason) }));
    ws.on('error', () => undefined);
  }

  async waitFor(type: string): Promise<Message> {
    await vi.waitFor(() => expect(this.messages.map((m) => m.type)).toContain(type), { timeout: 3_000, interval: 5 });
    return this.messages.find((m) => m.type === type)!;
  }

  async waitClosed(): Promise<{ code: number; reason: string }> {
    await vi.waitFor(() => expect(this.closed).toBeDefined(), { timeout: 3_000, interval: 5 });
    return this.closed!;
  }
}

type Settings = ConstructorParameters<typeof RealtimeServer>[5];

// A heartbeat far away by default, so a test sees only what the policy change or the send did.
const DEFAULTS: Settings = {
  TRUST_PROXY: false as GatewayConfig['TRUST_PROXY'],
  WS_PING_INTERVAL_MS: 60_000,
  WS_IDLE_TIMEOUT_MS: 120_000,
  WS_AUTH_TIMEOUT_MS: 10_000,
  WS_MAX_CONNECTIONS_PER_USER: 20,
  WS_MAX_CONNECTIONS_PER_ADDRESS: 200,
  WS_MESSAGES_PER_SECOND: 5,
  WS_MESSAGE_BURST: 20,
  WS_MAX_BUFFERED_BYTES: 1024 * 1024,
};

describe('RealtimeServer (real WebSockets on a loopback HTTP server; services replaced)', () => {
  let http: Server;
  let url: string;
  let events: Subject<playbackV1.PlaybackEvent>;
  let authenticator: FakeAuthenticator;
  let playback: { getQueue: ReturnType<typeof vi.fn>; getPlaybackState: ReturnType<typeof vi.fn> };
  let server: RealtimeServer | undefined;
  const clients: Client[] = [];

  /** (Re)starts the server under test with these settings. */
  const start = (overrides: Partial<Settings> = {}): void => {
    server?.beforeApplicationShutdown();
    server = new RealtimeServer(
      { httpAdapter: { getHttpServer: () => http } } as unknown as HttpAdapterHost,
      authenticator as unknown as SocketAuthenticator,
      { events } as unknown as PlaybackEventStream,
      playback as unknown as PlaybackClient,
      new GatewayLifecycle(),
      { ...DEFAULTS, ...overrides },
    );
    server.onApplicationBootstrap();
  };

  const open = (token?: string, options: WebSocket.ClientOptions = {}): WebSocket =>
    new WebSocket(`${url}/v1/ws`, token ? ['overture.v1', `bearer.${token}`] : ['overture.v1'], options);

  const connect = async (token?: string, options: WebSocket.ClientOptions = {}): Promise<Client> => {
    const client = new Client(open(token, options));
    clients.push(client);
    await once(client.ws, 'open');
    return client;
  };

  /** The HTTP status of a refused handshake. */
  const refusedWith = async (token?: string): Promise<number> => {
    const ws = open(token);
    ws.on('error', () => undefined);
    const [, response] = (await once(ws, 'unexpected-response')) as [unknown, { statusCode: number }];
    ws.terminate();
    return response.statusCode;
  };

  beforeEach(async () => {
    http = createServer();
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
    events = new Subject();
    authenticator = new FakeAuthenticator();
    playback = {
      getQueue: vi.fn(async () => ({ items: [], currentQueueItemId: '', version: 7, shuffle: false, repeat: 1 })),
      getPlaybackState: vi.fn(async () => undefined),
    };
    start();
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.ws.terminate();
    server?.beforeApplicationShutdown();
    server = undefined;
    http.close();
  });

  it("sends each user's events to that user's connections only, and a resync to everyone", async () => {
    const [ann1, ann2, bob] = await Promise.all([connect('ann'), connect('ann'), connect('bob')]);
    await Promise.all([ann1, ann2, bob].map((c) => c.waitFor('ready')));

    events.next({ kind: QUEUE_CHANGED, userId: 'ann', version: 3, change: 'add', deviceId: 'phone', changedAtMs: 0 });
    events.next({ kind: STATE_CHANGED, userId: 'ann', version: 9, change: '', deviceId: 'phone', changedAtMs: 0 });
    for (const ann of [ann1, ann2]) {
      expect(await ann.waitFor('queue.changed')).toMatchObject({ version: 3, change: 'add', device_id: 'phone' });
      expect(await ann.waitFor('player.state_changed')).toMatchObject({ version: 9, state: null });
    }
    events.next({ kind: RESYNC, userId: '', version: 0, change: '', deviceId: '', changedAtMs: 0 });
    await bob.waitFor('resync');
    expect(bob.messages.map((m) => m.type)).toEqual(['ready', 'resync']);
  });

  it('refuses the handshake with a bad token (401), without player:read (403), and on a path other than /v1/ws (404)', async () => {
    expect(await refusedWith('bad')).toBe(401);
    authenticator.deniedUsers.add('dan');
    expect(await refusedWith('dan')).toBe(403);

    const elsewhere = new WebSocket(`${url}/v1/other`, ['overture.v1', 'bearer.ann']);
    elsewhere.on('error', () => undefined);
    const [, notFound] = (await once(elsewhere, 'unexpected-response')) as [unknown, { statusCode: number }];
    expect(notFound.statusCode).toBe(404);
    elsewhere.terminate();
  });

  it('authenticates by a first auth message, and closes with 4401 on a bad one', async () => {
    const late = await connect();
    late.ws.send(JSON.stringify({ type: 'auth', token: 'ann' }));
    await late.waitFor('ready');
    const wrong = await connect();
    wrong.ws.send(JSON.stringify({ type: 'auth', token: 'bad' }));
    expect((await wrong.waitClosed()).code).toBe(4401);
  });

  it('closes a connection that has not authenticated within WS_AUTH_TIMEOUT_MS', async () => {
    start({ WS_AUTH_TIMEOUT_MS: 150 });
    const opened = Date.now();
    const silent = await connect();
    expect((await silent.waitClosed()).code).toBe(4401);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(140);
    expect(server?.connectionCount).toBe(0);
  });

  it('answers resume with what differs from the versions the client has', async () => {
    const client = await connect('ann');
    await client.waitFor('ready');
    client.ws.send(JSON.stringify({ type: 'resume', queue_version: 5, state_version: null }));
    expect(await client.waitFor('resumed')).toMatchObject({ queue_version: 7, state_version: null });
    expect(client.messages.find((m) => m.type === 'queue.changed')).toMatchObject({ version: 7, queue: { version: 7, items: [] } });
    expect(playback.getQueue).toHaveBeenCalledWith(expect.objectContaining({ authorization: 'Bearer ann' }), 'ann');

    client.ws.send(JSON.stringify({ type: 'resume', queue_version: 7, state_version: null }));
    await vi.waitFor(() => expect(client.messages.filter((m) => m.type === 'resumed')).toHaveLength(2));
    expect(client.messages.filter((m) => m.type === 'queue.changed')).toHaveLength(1);

    client.ws.send('{"type":"resume","queue_version":"seven"}');
    expect(await client.waitFor('error')).toMatchObject({ reason: 'INVALID_MESSAGE' });
  });

  it('pings; closes silent connections and expired tokens', async () => {
    start({ WS_PING_INTERVAL_MS: 50, WS_IDLE_TIMEOUT_MS: 300 });
    const lively = await connect('ann');
    let pings = 0;
    lively.ws.on('ping', () => pings++);
    const silent = await connect('bob', { autoPong: false });
    expect((await silent.waitClosed()).code).toBe(4408);
    expect(pings).toBeGreaterThan(1);
    expect(lively.closed).toBeUndefined();

    const expiring = await connect(`cat.${Date.now() + 100}`);
    expect(await expiring.waitClosed()).toEqual({ code: 4401, reason: 'TOKEN_EXPIRED' });
  });

  it('closes connections as soon as the policy revokes their session (4401) or takes player:read away (4403)', async () => {
    const [ann, bob, cat] = await Promise.all([connect('ann'), connect('bob'), connect('cat')]);
    await Promise.all([ann, bob, cat].map((c) => c.waitFor('ready')));

    authenticator.revokedUsers.add('ann');
    authenticator.announce();
    expect(await ann.waitClosed()).toEqual({ code: 4401, reason: 'SESSION_REVOKED' });
    authenticator.deniedUsers.add('bob');
    authenticator.announce();
    expect(await bob.waitClosed()).toEqual({ code: 4403, reason: 'PERMISSION_DENIED' });
    expect(cat.closed).toBeUndefined();
    expect(ann.messages.map((m) => m.type)).toEqual(['ready']);
  });

  it('sends nothing to a revoked session, even before the change is announced: every send checks first', async () => {
    const [ann, bob] = await Promise.all([connect('ann'), connect('bob')]);
    await Promise.all([ann, bob].map((c) => c.waitFor('ready')));
    authenticator.revokedUsers.add('ann');
    events.next({ kind: QUEUE_CHANGED, userId: 'ann', version: 4, change: 'add', deviceId: '', changedAtMs: 0 });
    events.next({ kind: RESYNC, userId: '', version: 0, change: '', deviceId: '', changedAtMs: 0 });
    expect(await ann.waitClosed()).toEqual({ code: 4401, reason: 'SESSION_REVOKED' });
    await bob.waitFor('resync');
    expect(ann.messages.map((m) => m.type)).toEqual(['ready']);
  });

  it('caps connections per user (429 at the handshake, 4430 on a late auth) and per address', async () => {
    start({ WS_MAX_CONNECTIONS_PER_USER: 2, WS_MAX_CONNECTIONS_PER_ADDRESS: 3 });
    await Promise.all([connect('ann'), connect('ann')]);
    expect(await refusedWith('ann')).toBe(429);
    const bob = await connect('bob');
    await bob.waitFor('ready');
    // Three from 127.0.0.1 now: the address is full, with or without a token.
    expect(await refusedWith()).toBe(429);
    expect(await refusedWith('cat')).toBe(429);

    bob.ws.close();
    await vi.waitFor(() => expect(server?.connectionCount).toBe(2));
    const late = await connect();
    late.ws.send(JSON.stringify({ type: 'auth', token: 'ann' }));
    expect((await late.waitClosed()).code).toBe(4430);
  });

  it('rate-limits client messages: resume costs 5, over the allowance RATE_LIMITED, and a client that keeps going is closed (4431)', async () => {
    start({ WS_MESSAGE_BURST: 5, WS_MESSAGES_PER_SECOND: 1 });
    const client = await connect('ann');
    await client.waitFor('ready');
    client.ws.send(JSON.stringify({ type: 'resume', queue_version: 7, state_version: null }));
    client.ws.send(JSON.stringify({ type: 'resume', queue_version: 7, state_version: null }));
    const limited = await client.waitFor('error');
    expect(limited).toMatchObject({ reason: 'RATE_LIMITED', retry_after_ms: expect.any(Number) });
    expect(limited.retry_after_ms).toBeGreaterThan(0);
    expect(playback.getQueue).toHaveBeenCalledTimes(1);

    for (let i = 0; i < 6; i++) client.ws.send(JSON.stringify({ type: 'ping' }));
    expect((await client.waitClosed()).code).toBe(4431);
    expect(client.messages.filter((m) => m.type === 'pong')).toEqual([]);
    expect(client.messages.filter((m) => m.reason === 'RATE_LIMITED')).toHaveLength(5);
  });

  it('drops a client that does not read what it is sent (4429) instead of buffering for it', async () => {
    start({ WS_MAX_BUFFERED_BYTES: 64 * 1024 });
    const slow = await connect('ann');
    await slow.waitFor('ready');
    slow.ws.pause();
    const pushed = 400;
    const change = 'x'.repeat(64 * 1024);
    for (let version = 1; version <= pushed; version++)
      events.next({ kind: QUEUE_CHANGED, userId: 'ann', version, change, deviceId: '', changedAtMs: 0 });
    slow.ws.resume();
    expect((await slow.waitClosed()).code).toBe(4429);
    expect(slow.messages.filter((m) => m.type === 'queue.changed').length).toBeLessThan(pushed);
  });

  it('closes every connection with 1001 on shutdown', async () => {
    const client = await connect('ann');
    await client.waitFor('ready');
    server?.beforeApplicationShutdown();
    expect((await client.waitClosed()).code).toBe(1001);
  });
});
