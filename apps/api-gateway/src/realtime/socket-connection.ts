import type { WebSocket } from 'ws';
import type { ServerMessage } from './realtime.protocol.js';
import type { SocketIdentity } from './socket-authenticator.js';

// A client that lets this much pile up unread is cut off rather than held in memory.
const MAX_BUFFERED_BYTES = 1024 * 1024;

/** One WebSocket client: its identity once authenticated, and when it was last heard from. */
export class SocketConnection {
  identity: SocketIdentity | undefined;
  /** The access token, kept to call services on the user's behalf (resume). */
  token: string | undefined;
  lastHeardAt = Date.now();

  constructor(readonly socket: WebSocket) {}

  get userId(): string | undefined {
    return this.identity?.principal.userId;
  }

  heard(): void {
    this.lastHeardAt = Date.now();
  }

  send(message: ServerMessage): void {
    this.sendRaw(JSON.stringify(message));
  }

  /** Sends pre-serialised text (one serialisation per event, however many connections receive it). */
  sendRaw(text: string): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    if (this.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.socket.close(4429, 'slow consumer');
      return;
    }
    this.socket.send(text);
  }

  close(code: number, reason: string): void {
    if (this.socket.readyState === this.socket.OPEN || this.socket.readyState === this.socket.CONNECTING) this.socket.close(code, reason);
  }
}
