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
import { GatewayLifecycle } from '../health/gateway-lifecycle.js';
import type { PlaybackEventStream } from './playback-event.stream.js';
import { RealtimeServer } from './realtime.server.js';
import { SocketAuthError, type SocketAuthenticator, type SocketIdentity } from './socket-authenticator.js';

const { PLAYBACK_EVENT_KIND_QUEUE_CHANGED: QUEUE_CHANGED, PLAYBACK_EVENT_KIND_STATE_CHANGED: STATE_CHANGED, PLAYBACK_EVENT_KIND_RESYNC: RESYNC } =
  playbackV1.PlaybackEventKind;

// Only the user id matters here; the rest of the principal is the identity lib's business.
const principal = (userId: string): Principal => ({ userId, sessionId: 's', tokenId: 't', roles: ['listener'] }) as Partial<Principal> as Principal;

/** Tokens are "<user>" or "<user>.<expires at, epoch ms>"; "bad" is refused; revoked users are listed. */
class FakeAuthenticator {
  readonly revokedUsers = new Set<string>();

  async authenticate(token: string): Promise<SocketIdentity> {
    if (token === 'bad') throw new SocketAuthError('INVALID_TOKEN', 'the access token is not valid');
    const [userId = '', expiresAt] = token.split('.');
    return { principal: principal(userId), expiresAt: expiresAt ? Number(expiresAt) : Number.POSITIVE_INFINITY };
  }

  revoked(p: Principal): string | undefined {
    return this.revokedUsers.has(p.userId) ? 'SESSION_REVOKED' : undefined;
  }
}

interface Message {
  type: string;
  version?: number;
  reason?: string;
  queue?: unknown;
}

class Client {
  readonly messages: Message[] = [];
  closed: number | undefined;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.messages.push(JSON.parse(String(data)) as Message));
    ws.on('close', (code) => (this.closed = code));
    ws.on('error', () => undefined);
  }

  async waitFor(type: string): Promise<Message> {
    await vi.waitFor(() => expect(this.messages.map((m) => m.type)).toContain(type), { timeout: 3_000, interval: 5 });
    return this.messages.find((m) => m.type === type)!;
  }
}

describe('RealtimeServer (real WebSockets on a loopback HTTP server; services replaced)', () => {
  let http: Server;
  let url: string;
  let events: Subject<playbackV1.PlaybackEvent>;
  let authenticator: FakeAuthenticator;
  let playback: { getQueue: ReturnType<typeof vi.fn>; getPlaybackState: ReturnType<typeof vi.fn> };
  let server: RealtimeServer;
  const clients: Client[] = [];

  const connect = async (token?: string, options: WebSocket.ClientOptions = {}): Promise<Client> => {
    const ws = new WebSocket(`${url}/v1/ws`, token ? ['overture.v1', `bearer.${token}`] : ['overture.v1'], options);
    const client = new Client(ws);
    clients.push(client);
    await once(ws, 'open');
    return client;
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
    server = new RealtimeServer(
      { httpAdapter: { getHttpServer: () => http } } as unknown as HttpAdapterHost,
      authenticator as unknown as SocketAuthenticator,
      { events } as unknown as PlaybackEventStream,
      playback as unknown as PlaybackClient,
      new GatewayLifecycle(),
      { WS_PING_INTERVAL_MS: 50, WS_IDLE_TIMEOUT_MS: 300 },
    );
    server.onApplicationBootstrap();
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.ws.terminate();
    server.beforeApplicationShutdown();
    http.close();
  });

  it("sends each user's events to that user's connections only, and a resync to everyone", async () => {
    const [ann1, ann2, bob] = await Promise.all([connect('ann'), connect('ann'), connect('bob')]);
    await Promise.all([ann1, ann2, bob].map((c) => c.waitFor('ready')));

    events.next({ kind: QUEUE_CHANGED, userId: 'ann', version: 3, change: 'add', deviceId: 'phone' });
    events.next({ kind: STATE_CHANGED, userId: 'ann', version: 9, change: '', deviceId: 'phone' });
    for (const ann of [ann1, ann2]) {
      expect(await ann.waitFor('queue.changed')).toMatchObject({ version: 3, change: 'add', device_id: 'phone' });
      expect(await ann.waitFor('player.state_changed')).toMatchObject({ version: 9, state: null });
    }
    events.next({ kind: RESYNC, userId: '', version: 0, change: '', deviceId: '' });
    await bob.waitFor('resync');
    expect(bob.messages.map((m) => m.type)).toEqual(['ready', 'resync']);
  });

  it('refuses the handshake with a bad token, and a path other than /v1/ws', async () => {
    const refused = new WebSocket(`${url}/v1/ws`, ['overture.v1', 'bearer.bad']);
    refused.on('error', () => undefined);
    const [, response] = (await once(refused, 'unexpected-response')) as [unknown, { statusCode: number }];
    expect(response.statusCode).toBe(401);
    refused.terminate();

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
    await vi.waitFor(() => expect(wrong.closed).toBe(4401));
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

  it('pings; closes silent connections, expired tokens and revoked sessions', async () => {
    const lively = await connect('ann');
    let pings = 0;
    lively.ws.on('ping', () => pings++);
    const silent = await connect('bob', { autoPong: false });
    await vi.waitFor(() => expect(silent.closed).toBe(4408), { timeout: 3_000 });
    expect(pings).toBeGreaterThan(1);
    expect(lively.closed).toBeUndefined();

    const expiring = await connect(`cat.${Date.now() + 100}`);
    await vi.waitFor(() => expect(expiring.closed).toBe(4401), { timeout: 3_000 });

    authenticator.revokedUsers.add('ann');
    await vi.waitFor(() => expect(lively.closed).toBe(4401), { timeout: 3_000 });
  });

  it('closes every connection with 1001 on shutdown', async () => {
    const client = await connect('ann');
    await client.waitFor('ready');
    server.beforeApplicationShutdown();
    await vi.waitFor(() => expect(client.closed).toBe(1001));
  });
});
