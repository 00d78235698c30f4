import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { CommonReason, GatewayReason, playbackV1 } from '@overture/contracts';
import { newRequestId } from '@overture/tracing';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Subscription } from 'rxjs';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { CallContext } from '../downstream/call-context.js';
import { PlaybackClient } from '../downstream/playback.client.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config.js';
import { GatewayLifecycle } from '../health/gateway-lifecycle.js';
import { ApiError } from '../http/api-error.js';
import { ConnectionRegistry } from './connection-registry.js';
import { PlaybackEventStream } from './playback-event.stream.js';
import { queuePayload, statePayload } from './realtime.mapper.js';
import {
  clientMessageSchema,
  CLOSE,
  MAX_CLIENT_MESSAGE_BYTES,
  MESSAGE_COST,
  WS_PATH,
  WS_SUBPROTOCOL,
  type ClientMessage,
  type ServerMessage,
} from './realtime.protocol.js';
import { SocketAuthenticator, SocketAuthError, type SocketIdentity } from './socket-authenticator.js';
import { SocketConnection, type SendPolicy } from './socket-connection.js';
import { clientAddressResolver, refuse, tokenOf } from './socket-handshake.js';
import { TokenBucket } from './token-bucket.js';

type Settings = Pick<
  GatewayConfig,
  | 'TRUST_PROXY'
  | 'WS_PING_INTERVAL_MS'
  | 'WS_IDLE_TIMEOUT_MS'
  | 'WS_AUTH_TIMEOUT_MS'
  | 'WS_MAX_CONNECTIONS_PER_USER'
  | 'WS_MAX_CONNECTIONS_PER_ADDRESS'
  | 'WS_MESSAGES_PER_SECOND'
  | 'WS_MESSAGE_BURST'
  | 'WS_MAX_BUFFERED_BYTES'
>;

const CHALLENGE = { 'www-authenticate': 'Bearer realm="overture"' };

/**
 * The WebSocket endpoint /v1/ws on the gateway's own HTTP server. A connection authenticates with
 * the access token (subprotocol `bearer.<token>` next to `overture.v1`, an Authorization header,
 * or a first `auth` message within WS_AUTH_TIMEOUT_MS), then receives `queue.changed` and
 * `player.state_changed` for its user, from whichever replica made the change. `resume` with the
 * versions last seen answers with what differs. The server pings every WS_PING_INTERVAL_MS and
 * closes a connection silent for WS_IDLE_TIMEOUT_MS; it closes it as soon as the live policy says
 * its session is revoked, its roles changed or `player:read` was taken away, and when its token
 * expires (unless renewed with `auth`). Connections are capped per user and per client address;
 * client messages draw on a token bucket; a client that does not read what it is sent is dropped.
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
  private readonly registry: ConnectionRegistry<SocketConnection>;
  private readonly clientAddress: (request: IncomingMessage) => string;
  private readonly sendPolicy: SendPolicy;
  private sweepTimer: NodeJS.Timeout | undefined;
  private events: Subscription | undefined;
  private unwatchPolicy: (() => void) | undefined;
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
  ) {
    this.registry = new ConnectionRegistry({ perUser: settings.WS_MAX_CONNECTIONS_PER_USER, perAddress: settings.WS_MAX_CONNECTIONS_PER_ADDRESS });
    this.clientAddress = clientAddressResolver(settings.TRUST_PROXY);
    this.sendPolicy = { maxBufferedBytes: settings.WS_MAX_BUFFERED_BYTES, refusal: (identity) => authenticator.refusal(identity) };
  }

  /** Open connections (authenticated or not yet). */
  get connectionCount(): number {
    return this.registry.size;
  }

  onApplicationBootstrap(): void {
    if (this.httpServer) return;
    this.httpServer = this.adapterHost.httpAdapter.getHttpServer() as Server;
    this.httpServer.on('upgrade', this.onUpgrade);
    this.events = this.stream.events.subscribe((event) => this.dispatch(event));
    // A revocation, a role change or a permission taken away closes the connections it concerns at once.
    this.unwatchPolicy = this.authenticator.onPolicyChange(() => this.closeRefused());
    this.sweepTimer = setInterval(() => this.sweep(), this.settings.WS_PING_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  // Before the HTTP server closes: clients are told to go elsewhere instead of being cut off.
  beforeApplicationShutdown(): void {
    clearInterval(this.sweepTimer);
    this.events?.unsubscribe();
    this.unwatchPolicy?.();
    this.httpServer?.off('upgrade', this.onUpgrade);
    for (const connection of this.registry.all()) connection.close(CLOSE.goingAway, 'server shutting down');
    this.wss.close();
  }

  private async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const path = (request.url ?? '/').split('?', 1)[0];
    if (path !== WS_PATH) return refuse(socket, new ApiError(404, GatewayReason.ROUTE_NOT_FOUND, `no WebSocket endpoint at ${path}; use ${WS_PATH}`));
    if (this.lifecycle.draining) return refuse(socket, new ApiError(503, GatewayReason.SHUTTING_DOWN, 'this gateway instance is shutting down; reconnect'));
    const token = tokenOf(request);
    if (token === 'ambiguous') return refuse(socket, new ApiError(400, GatewayReason.MALFORMED_REQUEST, 'send one Authorization header, not several'));
    const address = this.clientAddress(request);
    let identity: SocketIdentity | undefined;
    if (token !== undefined) {
      try {
        identity = await this.authenticator.authenticate(token);
      } catch (error) {
        if (error instanceof SocketAuthError) return refuse(socket, new ApiError(error.status, error.reason, error.message, error.status === 401 ? CHALLENGE : {}));
        this.logger.error(`WebSocket authentication failed: ${String(error)}`);
        return refuse(socket, new ApiError(500, CommonReason.INTERNAL, 'internal error'));
      }
    }
    // Checked after the await and acted on synchronously by handleUpgrade's callback: no other upgrade can slip in between.
    if (this.registry.addressFull(address)) return refuse(socket, tooMany(`this address already has ${this.settings.WS_MAX_CONNECTIONS_PER_ADDRESS} connections open`));
    if (identity && this.registry.userFull(identity.principal.userId)) {
      return refuse(socket, tooMany(`this account already has ${this.settings.WS_MAX_CONNECTIONS_PER_USER} connections open; close one first`));
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, address, identity, token));
  }

  private accept(ws: WebSocket, address: string, identity: SocketIdentity | undefined, token: string | undefined): void {
    const allowance = new TokenBucket(this.settings.WS_MESSAGE_BURST, this.settings.WS_MESSAGES_PER_SECOND);
    const connection = new SocketConnection(ws, address, allowance, this.sendPolicy);
    ws.on('error', () => undefined); // followed by 'close'
    ws.on('close', () => this.registry.remove(connection));
    if (!this.registry.add(connection)) return connection.close(CLOSE.tooManyConnections, 'too many connections from this address');
    ws.on('pong', () => connection.heard());
    ws.on('ping', () => connection.heard());
    ws.on('message', (data, isBinary) => {
      this.receive(connection, data, isBinary).catch((error: unknown) => {
        this.logger.error(`WebSocket message handling failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        connection.send({ type: 'error', reason: CommonReason.INTERNAL, message: 'internal error' });
      });
    });
    if (identity && token) {
      this.authenticated(connection, identity, token);
    } else {
      const timer = setTimeout(() => {
        if (!connection.identity) connection.close(CLOSE.unauthenticated, 'send {"type":"auth","token":…} first');
      }, this.settings.WS_AUTH_TIMEOUT_MS);
      timer.unref();
      ws.once('close', () => clearTimeout(timer));
    }
  }

  private authenticated(connection: SocketConnection, identity: SocketIdentity, token: string): void {
    const first = !connection.identity;
    if (!this.registry.bindUser(connection, identity.principal.userId)) {
      return connection.close(CLOSE.tooManyConnections, 'too many connections for this account');
    }
    connection.identity = identity;
    connection.token = token;
    if (!first) return;
    connection.send({
      type: 'ready',
      user_id: identity.principal.userId,
      ping_interval_ms: this.settings.WS_PING_INTERVAL_MS,
      idle_timeout_ms: this.settings.WS_IDLE_TIMEOUT_MS,
    });
  }

  private async receive(connection: SocketConnection, data: RawData, isBinary: boolean): Promise<void> {
    connection.heard();
    const message = isBinary ? undefined : parse(data);
    if (!this.withinRate(connection, message ? MESSAGE_COST[message.type] : 1)) return;
    if (!message) {
      connection.send({ type: 'error', reason: GatewayReason.INVALID_MESSAGE, message: 'send JSON text: {"type":"auth"|"resume"|"ping", …}' });
      return;
    }
    if (message.type === 'ping') return void connection.send({ type: 'pong' });
    if (message.type === 'auth') return this.reauthenticate(connection, message.token);
    if (!connection.identity || !connection.token) {
      return void connection.send({ type: 'error', reason: CommonReason.UNAUTHENTICATED, message: 'send {"type":"auth","token":…} first' });
    }
    await this.resume(connection, connection.identity.principal.userId, connection.token, message);
  }

  /**
   * Draws the message's cost from the connection's allowance. Over it, the message is not handled
   * and the client is told when to try again; one that sends a burst's worth more regardless is closed.
   */
  private withinRate(connection: SocketConnection, cost: number): boolean {
    if (connection.allowance.take(cost)) {
      connection.refusedMessages = 0;
      return true;
    }
    if (++connection.refusedMessages > this.settings.WS_MESSAGE_BURST) {
      connection.close(CLOSE.tooManyMessages, 'message rate exceeded');
      return false;
    }
    connection.send({
      type: 'error',
      reason: GatewayReason.RATE_LIMITED,
      message: `at most ${this.settings.WS_MESSAGES_PER_SECOND} messages a second (resume counts as ${MESSAGE_COST.resume}); this one was not handled`,
      retry_after_ms: connection.allowance.waitMs(cost),
    });
    return false;
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
      if (!connection.identity && !error.retryable) connection.close(error.status === 403 ? CLOSE.forbidden : CLOSE.unauthenticated, error.reason);
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
      connection.send({ type: 'error', reason: GatewayReason.SERVICE_UNAVAILABLE, message: 'the playback service is unavailable; send resume again shortly' });
    }
  }

  /** One event from playback-queue to every local connection of its user (or a resync to all). */
  private dispatch(event: playbackV1.PlaybackEvent): void {
    const { PLAYBACK_EVENT_KIND_QUEUE_CHANGED, PLAYBACK_EVENT_KIND_STATE_CHANGED, PLAYBACK_EVENT_KIND_RESYNC } = playbackV1.PlaybackEventKind;
    let message: ServerMessage;
    switch (event.kind) {
      case PLAYBACK_EVENT_KIND_RESYNC: {
        const text = JSON.stringify({ type: 'resync' } satisfies ServerMessage);
        for (const connection of this.registry.all()) if (connection.identity) connection.sendRaw(text);
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
    const targets = this.registry.ofUser(event.userId);
    if (targets.size === 0) return;
    const text = JSON.stringify(message);
    for (const connection of targets) connection.sendRaw(text);
  }

  /** Closes every authenticated connection the live policy no longer allows. */
  private closeRefused(now = Date.now()): void {
    for (const connection of this.registry.all()) {
      const refusal = connection.identity && this.authenticator.refusal(connection.identity, now);
      if (refusal) connection.close(refusal.code, refusal.reason);
    }
  }

  /** The heartbeat: closes silent connections (and expired tokens, should no message have gone out) and pings the rest. */
  private sweep(): void {
    const now = Date.now();
    this.closeRefused(now);
    for (const connection of this.registry.all()) {
      if (now - connection.lastHeardAt > this.settings.WS_IDLE_TIMEOUT_MS) {
        connection.close(CLOSE.idle, 'no message or pong received in time');
        // A peer that vanished does not answer the close handshake either.
        connection.socket.terminate();
        continue;
      }
      if (connection.socket.readyState === connection.socket.OPEN) connection.socket.ping();
    }
  }
}

function tooMany(message: string): ApiError {
  return new ApiError(429, GatewayReason.TOO_MANY_CONNECTIONS, message);
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
