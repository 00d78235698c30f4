import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { playbackV1 } from '@overture/contracts';
import { newRequestId } from '@overture/tracing';
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Subscription } from 'rxjs';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { CallContext } from '../downstream/call-context.js';
import { PlaybackClient } from '../downstream/playback.client.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config.js';
import { GatewayLifecycle } from '../health/gateway-lifecycle.js';
import { ApiError } from '../http/api-error.js';
import { problemBody } from '../http/problem-body.js';
import { PlaybackEventStream } from './playback-event.stream.js';
import {
  BEARER_PROTOCOL_PREFIX,
  clientMessageSchema,
  CLOSE,
  MAX_CLIENT_MESSAGE_BYTES,
  WS_PATH,
  WS_SUBPROTOCOL,
  type ClientMessage,
  type QueuePayload,
  type ServerMessage,
  type StatePayload,
} from './realtime.protocol.js';
import { SocketAuthenticator, SocketAuthError, type SocketIdentity } from './socket-authenticator.js';
import { SocketConnection } from './socket-connection.js';

// A connection opened without a token must send `auth` within this time.
const AUTH_TIMEOUT_MS = 10_000;
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

type Settings = Pick<GatewayConfig, 'WS_PING_INTERVAL_MS' | 'WS_IDLE_TIMEOUT_MS'>;

/**
 * The WebSocket endpoint /v1/ws on the gateway's own HTTP server. A connection authenticates with
 * the access token (subprotocol `bearer.<token>` next to `overture.v1`, an Authorization header,
 * or a first `auth` message), then receives `queue.changed` and `player.state_changed` for its
 * user, from whichever replica made the change. `resume` with the versions last seen answers with
 * what differs. The server pings every WS_PING_INTERVAL_MS and closes a connection silent for
 * WS_IDLE_TIMEOUT_MS; it also closes it when its token expires (unless renewed with `auth`) or its
 * session is revoked.
 */
@Injectable()
export class RealtimeServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(RealtimeServer.name);
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_CLIENT_MESSAGE_BYTES,
    perMessageDeflate: false,
    // Selects our subprotocol; never the bearer one, so the token is not echoed back.
    handleProtocols: (protocols) => (protocols.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false),
  });
  /** Authenticated connections by user id. */
  private readonly byUser = new Map<string, Set<SocketConnection>>();
  private readonly connections = new Set<SocketConnection>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private events: Subscription | undefined;
  private httpServer: Server | undefined;
  private readonly onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    void this.upgrade(request, socket, head);
  };

  constructor(
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Inject(SocketAuthenticator) private readonly authenticator: SocketAuthenticator,
    @Inject(PlaybackEventStream) private readonly stream: PlaybackEventStream,
    @Inject(PlaybackClient) private readonly playback: PlaybackClient,
    @Inject(GatewayLifecycle) private readonly lifecycle: GatewayLifecycle,
    @Inject(GATEWAY_CONFIG) private readonly settings: Settings,
  ) {}

  /** Open connections (authenticated or not yet). */
  get connectionCount(): number {
    return this.connections.size;
  }

  onApplicationBootstrap(): void {
    if (this.httpServer) return;
    this.httpServer = this.adapterHost.httpAdapter.getHttpServer() as Server;
    this.httpServer.on('upgrade', this.onUpgrade);
    this.events = this.stream.events.subscribe((event) => this.dispatch(event));
    this.sweepTimer = setInterval(() => this.sweep(), this.settings.WS_PING_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  // Before the HTTP server closes: clients are told to go elsewhere instead of being cut off.
  beforeApplicationShutdown(): void {
    clearInterval(this.sweepTimer);
    this.events?.unsubscribe();
    this.httpServer?.off('upgrade', this.onUpgrade);
    for (const connection of this.connections) connection.close(CLOSE.goingAway, 'server shutting down');
    this.wss.close();
  }

  private async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const path = (request.url ?? '/').split('?', 1)[0];
    if (path !== WS_PATH) return refuse(socket, new ApiError(404, 'ROUTE_NOT_FOUND', `no WebSocket endpoint at ${path}; use ${WS_PATH}`));
    if (this.lifecycle.draining) return refuse(socket, new ApiError(503, 'SHUTTING_DOWN', 'this gateway instance is shutting down; reconnect'));
    const token = tokenOf(request);
    let identity: SocketIdentity | undefined;
    if (token !== undefined) {
      try {
        identity = await this.authenticator.authenticate(token);
      } catch (error) {
        if (error instanceof SocketAuthError) {
          return refuse(socket, new ApiError(error.retryable ? 503 : 401, error.reason, error.message, { 'www-authenticate': 'Bearer realm="overture"' }));
        }
        this.logger.error(`WebSocket authentication failed: ${String(error)}`);
        return refuse(socket, new ApiError(500, 'INTERNAL', 'internal error'));
      }
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, identity, token));
  }

  private accept(ws: WebSocket, identity: SocketIdentity | undefined, token: string | undefined): void {
    const connection = new SocketConnection(ws);
    this.connections.add(connection);
    ws.on('pong', () => connection.heard());
    ws.on('ping', () => connection.heard());
    ws.on('message', (data, isBinary) => {
      this.receive(connection, data, isBinary).catch((error: unknown) => {
        this.logger.error(`WebSocket message handling failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        connection.send({ type: 'error', reason: 'INTERNAL', message: 'internal error' });
      });
    });
    ws.on('error', () => undefined); // followed by 'close'
    ws.on('close', () => this.forget(connection));
    if (identity && token) {
      this.authenticated(connection, identity, token);
    } else {
      const timer = setTimeout(() => {
        if (!connection.identity) connection.close(CLOSE.unauthenticated, 'send {"type":"auth","token":…} first');
      }, AUTH_TIMEOUT_MS);
      timer.unref();
    }
  }

  private authenticated(connection: SocketConnection, identity: SocketIdentity, token: string): void {
    const first = !connection.identity;
    connection.identity = identity;
    connection.token = token;
    if (!first) return;
    const userId = identity.principal.userId;
    let set = this.byUser.get(userId);
    if (!set) this.byUser.set(userId, (set = new Set()));
    set.add(connection);
    connection.send({ type: 'ready', user_id: userId, ping_interval_ms: this.settings.WS_PING_INTERVAL_MS, idle_timeout_ms: this.settings.WS_IDLE_TIMEOUT_MS });
  }

  private forget(connection: SocketConnection): void {
    this.connections.delete(connection);
    const userId = connection.userId;
    if (!userId) return;
    const set = this.byUser.get(userId);
    set?.delete(connection);
    if (set?.size === 0) this.byUser.delete(userId);
  }

  private async receive(connection: SocketConnection, data: RawData, isBinary: boolean): Promise<void> {
    connection.heard();
    const message = isBinary ? undefined : parse(data);
    if (!message) {
      connection.send({ type: 'error', reason: 'INVALID_MESSAGE', message: 'send JSON text: {"type":"auth"|"resume"|"ping", …}' });
      return;
    }
    if (message.type === 'ping') return connection.send({ type: 'pong' });
    if (message.type === 'auth') return this.reauthenticate(connection, message.token);
    if (!connection.identity || !connection.token) {
      return connection.send({ type: 'error', reason: 'UNAUTHENTICATED', message: 'send {"type":"auth","token":…} first' });
    }
    await this.resume(connection, connection.identity.principal.userId, connection.token, message);
  }

  private async reauthenticate(connection: SocketConnection, token: string): Promise<void> {
    try {
      const identity = await this.authenticator.authenticate(token);
      if (connection.userId && connection.userId !== identity.principal.userId) {
        return connection.close(CLOSE.forbidden, 'a token of another user');
      }
      this.authenticated(connection, identity, token);
    } catch (error) {
      if (!(error instanceof SocketAuthError)) throw error;
      connection.send({ type: 'error', reason: error.reason, message: error.message });
      if (!connection.identity && !error.retryable) connection.close(CLOSE.unauthenticated, error.reason);
    }
  }

  /** Sends what differs from the versions the client has: the full queue and/or state. */
  private async resume(connection: SocketConnection, userId: string, token: string, message: Extract<ClientMessage, { type: 'resume' }>): Promise<void> {
    const ctx: CallContext = { requestId: newRequestId(), authorization: `Bearer ${token}` };
    try {
      const [queue, state] = await Promise.all([this.playback.getQueue(ctx, userId), this.playback.getPlaybackState(ctx, userId)]);
      if (queue.version !== message.queue_version) {
        connection.send({ type: 'queue.changed', version: queue.version, change: 'resume', device_id: null, queue: queuePayload(queue) });
      }
      const stateVersion = state?.version ?? null;
      if (stateVersion !== (message.state_version ?? null)) {
        connection.send({ type: 'player.state_changed', version: stateVersion ?? 0, device_id: null, state: state ? statePayload(state) : null });
      }
      connection.send({ type: 'resumed', queue_version: queue.version, state_version: stateVersion });
    } catch {
      connection.send({ type: 'error', reason: 'SERVICE_UNAVAILABLE', message: 'the playback service is unavailable; send resume again shortly' });
    }
  }

  /** One event from playback-queue to every local connection of its user (or a resync to all). */
  private dispatch(event: playbackV1.PlaybackEvent): void {
    const { PLAYBACK_EVENT_KIND_QUEUE_CHANGED, PLAYBACK_EVENT_KIND_STATE_CHANGED, PLAYBACK_EVENT_KIND_RESYNC } = playbackV1.PlaybackEventKind;
    let message: ServerMessage;
    switch (event.kind) {
      case PLAYBACK_EVENT_KIND_RESYNC: {
        const text = JSON.stringify({ type: 'resync' } satisfies ServerMessage);
        for (const connection of this.connections) if (connection.identity) connection.sendRaw(text);
        return;
      }
      case PLAYBACK_EVENT_KIND_QUEUE_CHANGED:
        message = { type: 'queue.changed', version: event.version, change: event.change, device_id: event.deviceId || null };
        break;
      case PLAYBACK_EVENT_KIND_STATE_CHANGED:
        message = { type: 'player.state_changed', version: event.version, device_id: event.deviceId || null, state: event.state ? statePayload(event.state) : null };
        break;
      default:
        return;
    }
    const targets = this.byUser.get(event.userId);
    if (!targets) return;
    const text = JSON.stringify(message);
    for (const connection of targets) connection.sendRaw(text);
  }

  /** The heartbeat: closes silent, expired and revoked connections and pings the rest. */
  private sweep(): void {
    const now = Date.now();
    for (const connection of this.connections) {
      if (now - connection.lastHeardAt > this.settings.WS_IDLE_TIMEOUT_MS) {
        connection.close(CLOSE.idle, 'no message or pong received in time');
        // A peer that vanished does not answer the close handshake either.
        connection.socket.terminate();
        continue;
      }
      const identity = connection.identity;
      if (identity && identity.expiresAt <= now) {
        connection.close(CLOSE.unauthenticated, 'the access token expired; reconnect or send auth with a fresh one');
        continue;
      }
      const revoked = identity && this.authenticator.revoked(identity.principal);
      if (revoked) {
        connection.close(CLOSE.unauthenticated, revoked);
        continue;
      }
      if (connection.socket.readyState === connection.socket.OPEN) connection.socket.ping();
    }
  }
}

/** The token from the `bearer.<token>` subprotocol or the Authorization header. */
function tokenOf(request: IncomingMessage): string | undefined {
  const protocols = request.headers['sec-websocket-protocol'];
  if (protocols) {
    for (const protocol of protocols.split(',')) {
      const trimmed = protocol.trim();
      if (trimmed.startsWith(BEARER_PROTOCOL_PREFIX)) return trimmed.slice(BEARER_PROTOCOL_PREFIX.length);
    }
  }
  const header = request.headers.authorization;
  return header ? BEARER.exec(header)?.[1] : undefined;
}

function parse(data: RawData): ClientMessage | undefined {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString('utf8'));
  } catch {
    return undefined;
  }
  const result = clientMessageSchema.safeParse(json);
  return result.success ? result.data : undefined;
}

/** Answers an upgrade request it will not accept with a plain HTTP error in the API's error shape. */
function refuse(socket: Duplex, error: ApiError): void {
  if (!socket.writable) return void socket.destroy();
  const body = JSON.stringify(problemBody(error, newRequestId()));
  const headers = Object.entries(error.headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\n${headers}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

const REPEAT: Record<playbackV1.RepeatMode, QueuePayload['repeat']> = {
  [playbackV1.RepeatMode.REPEAT_MODE_UNSPECIFIED]: 'off',
  [playbackV1.RepeatMode.REPEAT_MODE_OFF]: 'off',
  [playbackV1.RepeatMode.REPEAT_MODE_TRACK]: 'track',
  [playbackV1.RepeatMode.REPEAT_MODE_CONTEXT]: 'context',
};

function queuePayload(queue: playbackV1.Queue): QueuePayload {
  return {
    items: queue.items.map((item) => ({ queue_item_id: item.queueItemId, track_id: item.trackId, added_at: item.addedAt })),
    current_queue_item_id: queue.currentQueueItemId || null,
    version: queue.version,
    shuffle: queue.shuffle,
    repeat: REPEAT[queue.repeat],
  };
}

function statePayload(state: playbackV1.PlaybackState): StatePayload {
  const item = state.currentItem;
  return {
    device_id: state.deviceId,
    item: item ? { queue_item_id: item.queueItemId, track_id: item.trackId } : null,
    position_ms: state.positionMs,
    is_playing: state.isPlaying,
    playback_rate: state.playbackRate || 1,
    updated_at: state.updatedAt,
    server_time: state.serverTime,
    version: state.version,
  };
}
