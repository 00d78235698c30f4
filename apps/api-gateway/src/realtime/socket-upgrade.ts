import { Logger } from '@nestjs/common';
import { CLOSE, MAX_CLIENT_MESSAGE_BYTES, WS_PATH, WS_SUBPROTOCOL } from '@overture/gateway-contract';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { GatewayConfig } from '../gateway.config.js';
import type { GatewayLifecycle } from '../health/gateway-lifecycle.js';
import { ApiError } from '../http/api-error.js';
import type { ClientMessages } from './client-messages.js';
import type { ConnectionRegistry } from './connection-registry.js';
import { SocketAuthError, type SocketAuthenticator, type SocketIdentity } from './socket-authenticator.js';
import { SocketConnection, type SendPolicy } from './socket-connection.js';
import { clientAddressResolver, refuse, tokenOf } from './socket-handshake.js';
import { TokenBucket } from './token-bucket.js';
import { internalError, malformedRequest, routeNotFound, shuttingDown, tooManyConnections } from '../http/gateway.errors.js';

export type UpgradeSettings = Pick<
  GatewayConfig,
  | 'TRUST_PROXY'
  | 'WS_AUTH_TIMEOUT_MS'
  | 'WS_MAX_CONNECTIONS_PER_USER'
  | 'WS_MAX_CONNECTIONS_PER_ADDRESS'
  | 'WS_MESSAGES_PER_SECOND'
  | 'WS_MESSAGE_BURST'
  | 'WS_MAX_BUFFERED_BYTES'
>;

const CHALLENGE = { 'www-authenticate': 'Bearer realm="overture"' };

/**
 * The HTTP upgrade to a WebSocket: checks the path, the token if one came with the handshake and the
 * connection caps, answers a refusal with the API's error body, and registers what it accepts.
 * A connection opened without a token must send `auth` within WS_AUTH_TIMEOUT_MS.
 */
export class SocketUpgrade {
  private readonly logger = new Logger(SocketUpgrade.name);
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_CLIENT_MESSAGE_BYTES,
    perMessageDeflate: false,
    // Selects our subprotocol; never the bearer one, so the token is not echoed back.
    handleProtocols: (protocols) => (protocols.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false),
  });
  private readonly clientAddress: (request: IncomingMessage) => string;
  private readonly sendPolicy: SendPolicy;

  constructor(
    private readonly registry: ConnectionRegistry<SocketConnection>,
    private readonly authenticator: SocketAuthenticator,
    private readonly messages: ClientMessages,
    private readonly lifecycle: GatewayLifecycle,
    private readonly settings: UpgradeSettings,
  ) {
    this.clientAddress = clientAddressResolver(settings.TRUST_PROXY);
    this.sendPolicy = { maxBufferedBytes: settings.WS_MAX_BUFFERED_BYTES, refusal: (identity) => authenticator.refusal(identity) };
  }

  async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const path = (request.url ?? '/').split('?', 1)[0];
    if (path !== WS_PATH) return refuse(socket, routeNotFound(`no WebSocket endpoint at ${path}; use ${WS_PATH}`));
    if (this.lifecycle.draining) return refuse(socket, shuttingDown('this gateway instance is shutting down; reconnect'));
    const token = tokenOf(request);
    if (token === 'ambiguous') return refuse(socket, malformedRequest('send one Authorization header, not several'));
    const address = this.clientAddress(request);
    let identity: SocketIdentity | undefined;
    if (token !== undefined) {
      try {
        identity = await this.authenticator.authenticate(token);
      } catch (error) {
        if (error instanceof SocketAuthError)
          return refuse(socket, new ApiError(error.status, error.reason, error.message, error.status === 401 ? CHALLENGE : {}));
        this.logger.error(`WebSocket authentication failed: ${String(error)}`);
        return refuse(socket, internalError(error));
      }
    }
    // Checked after the await and acted on synchronously by handleUpgrade's callback: no other upgrade can slip in between.
    if (this.registry.addressFull(address))
      return refuse(
        socket,
        tooManyConnections(`this address already has ${this.settings.WS_MAX_CONNECTIONS_PER_ADDRESS} connections open`),
      );
    if (identity && this.registry.userFull(identity.principal.userId)) {
      return refuse(
        socket,
        tooManyConnections(`this account already has ${this.settings.WS_MAX_CONNECTIONS_PER_USER} connections open; close one first`),
      );
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, address, identity, token));
  }

  close(): void {
    this.wss.close();
  }

  private accept(ws: WebSocket, address: string, identity: SocketIdentity | undefined, token: string | undefined): void {
    const allowance = new TokenBucket(this.settings.WS_MESSAGE_BURST, this.settings.WS_MESSAGES_PER_SECOND);
    const connection = new SocketConnection(ws, address, allowance, this.sendPolicy);
    ws.on('error', () => undefined); // followed by 'close'
    ws.on('close', () => this.registry.remove(connection));
    if (!this.registry.add(connection)) return connection.close(CLOSE.tooManyConnections, 'too many connections from this address');
    ws.on('pong', () => connection.heard());
    ws.on('ping', () => connection.heard());
    ws.on('message', (data, isBinary) => this.messages.receive(connection, data, isBinary));
    if (identity && token) {
      this.messages.authenticated(connection, identity, token);
    } else {
      const timer = setTimeout(() => {
        if (!connection.identity) connection.close(CLOSE.unauthenticated, 'send {"type":"auth","token":…} first');
      }, this.settings.WS_AUTH_TIMEOUT_MS);
      timer.unref();
      ws.once('close', () => clearTimeout(timer));
    }
  }
}
