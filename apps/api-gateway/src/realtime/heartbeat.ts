import { CLOSE } from '@overture/gateway-contract';
import type { ConnectionRegistry } from './connection-registry.js';
import type { SocketAuthenticator } from './socket-authenticator.js';
import type { SocketConnection } from './socket-connection.js';

/**
 * Every WS_PING_INTERVAL_MS: closes connections silent for WS_IDLE_TIMEOUT_MS and those the live
 * policy no longer allows (a token expired with no message sent since), and pings the rest.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly registry: ConnectionRegistry<SocketConnection>,
    private readonly authenticator: SocketAuthenticator,
    private readonly settings: { readonly WS_PING_INTERVAL_MS: number; readonly WS_IDLE_TIMEOUT_MS: number },
  ) {}

  start(): void {
    this.timer = setInterval(() => this.sweep(), this.settings.WS_PING_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Closes every authenticated connection the live policy no longer allows. */
  closeRefused(now = Date.now()): void {
    for (const connection of this.registry.all()) {
      const refusal = connection.identity && this.authenticator.refusal(connection.identity, now);
      if (refusal) connection.close(refusal.code, refusal.reason);
    }
  }

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
