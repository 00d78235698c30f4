import { Logger } from '@nestjs/common';
import { CommonReason, GatewayReason } from '@overture/contracts';
import { clientMessageSchema, CLOSE, MESSAGE_COST, type ClientMessage } from '@overture/gateway-contract';
import { newRequestId } from '@overture/tracing';
import type { RawData } from 'ws';
import type { CallContext } from '../downstream/call-context.js';
import type { PlaybackClient } from '../downstream/playback.client.js';
import type { GatewayConfig } from '../gateway.config.js';
import { toQueuePayload, toStatePayload } from '../player/player.mapper.js';
import type { ConnectionRegistry } from './connection-registry.js';
import { SocketAuthError, type SocketAuthenticator, type SocketIdentity } from './socket-authenticator.js';
import type { SocketConnection } from './socket-connection.js';

export type ClientMessageSettings = Pick<
  GatewayConfig,
  'WS_PING_INTERVAL_MS' | 'WS_IDLE_TIMEOUT_MS' | 'WS_MESSAGES_PER_SECOND' | 'WS_MESSAGE_BURST'
>;

/**
 * What a connection says and what it is answered: `auth` (first or renewed token), `resume` (what
 * differs from the versions the client has) and `ping`, each drawn from the connection's allowance.
 */
export class ClientMessages {
  private readonly logger = new Logger(ClientMessages.name);

  constructor(
    private readonly registry: ConnectionRegistry<SocketConnection>,
    private readonly authenticator: SocketAuthenticator,
    private readonly playback: PlaybackClient,
    private readonly settings: ClientMessageSettings,
  ) {}

  /** Handles one frame; a failure is logged and answered with INTERNAL, never thrown. */
  receive(connection: SocketConnection, data: RawData, isBinary: boolean): void {
    this.handle(connection, data, isBinary).catch((error: unknown) => {
      this.logger.error(`WebSocket message handling failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      connection.send({ type: 'error', reason: CommonReason.INTERNAL, message: 'internal error' });
    });
  }

  /** Binds a connection to the user its token names; the first time, tells the client it is ready. */
  authenticated(connection: SocketConnection, identity: SocketIdentity, token: string): void {
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

  private async handle(connection: SocketConnection, data: RawData, isBinary: boolean): Promise<void> {
    connection.heard();
    const message = isBinary ? undefined : parse(data);
    if (!this.withinRate(connection, message ? MESSAGE_COST[message.type] : 1)) return;
    if (!message) {
      connection.send({
        type: 'error',
        reason: GatewayReason.INVALID_MESSAGE,
        message: 'send JSON text: {"type":"auth"|"resume"|"ping", …}',
      });
      return;
    }
    switch (message.type) {
      case 'ping':
        return void connection.send({ type: 'pong' });
      case 'auth':
        return this.reauthenticate(connection, message.token);
      case 'resume':
        if (!connection.identity || !connection.token) {
          return void connection.send({
            type: 'error',
            reason: CommonReason.UNAUTHENTICATED,
            message: 'send {"type":"auth","token":…} first',
          });
        }
        return this.resume(connection, connection.identity.principal.userId, connection.token, message);
    }
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
      if (!connection.identity && !error.retryable)
        connection.close(error.status === 403 ? CLOSE.forbidden : CLOSE.unauthenticated, error.reason);
    }
  }

  /** Sends what differs from the versions the client has: the full queue and/or state. */
  private async resume(
    connection: SocketConnection,
    userId: string,
    token: string,
    message: Extract<ClientMessage, { type: 'resume' }>,
  ): Promise<void> {
    const ctx: CallContext = { requestId: newRequestId(), authorization: `Bearer ${token}` };
    try {
      const [queue, state] = await Promise.all([this.playback.getQueue(ctx, userId), this.playback.getPlaybackState(ctx, userId)]);
      if (queue.version !== message.queue_version) {
        connection.send({ type: 'queue.changed', version: queue.version, change: 'resume', device_id: null, queue: toQueuePayload(queue) });
      }
      const stateVersion = state?.version ?? null;
      if (stateVersion !== (message.state_version ?? null)) {
        connection.send({
          type: 'player.state_changed',
          version: stateVersion ?? 0,
          device_id: null,
          state: state ? toStatePayload(state) : null,
        });
      }
      connection.send({ type: 'resumed', queue_version: queue.version, state_version: stateVersion });
    } catch {
      connection.send({
        type: 'error',
        reason: GatewayReason.SERVICE_UNAVAILABLE,
        message: 'the playback service is unavailable; send resume again shortly',
      });
    }
  }
}

function parse(data: RawData): ClientMessage | undefined {
  let json: unknown;
  try {
    json = JSON.parse(
      Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString('utf8'),
    );
  } catch {
    return undefined;
  }
  const result = clientMessageSchema.safeParse(json);
  return result.success ? result.data : undefined;
}
