import type { WebSocket } from 'ws';
import { CLOSE, type ServerMessage } from '@overture/gateway-contract';
import type { Refusal, SocketIdentity } from './socket-authenticator.js';
import type { TokenBucket } from './token-bucket.js';

/** What a connection consults before each message it sends. */
export interface SendPolicy {
  /** Unsent bytes past which the client counts as a slow reader and is closed. */
  readonly maxBufferedBytes: number;
  /** Why this identity may receive nothing more, if so. */
  refusal(identity: SocketIdentity): Refusal | undefined;
}

/**
 * One WebSocket client: where it connects from, its identity once authenticated, when it was last
 * heard from and its message allowance. Every send first checks that the identity may still receive
 * (a session revoked a moment ago gets nothing more) and that the client keeps up with what it was sent.
 */
export class SocketConnection {
  identity: SocketIdentity | undefined;
  /** The access token, kept to call services on the user's behalf (resume). */
  token: string | undefined;
  lastHeardAt = Date.now();
  /** Messages refused in a row for going over the rate; reset by one that is accepted. */
  refusedMessages = 0;

  constructor(
    readonly socket: WebSocket,
    readonly address: string,
    readonly allowance: TokenBucket,
    private readonly policy: SendPolicy,
  ) {}

  get userId(): string | undefined {
    return this.identity?.principal.userId;
  }

  heard(): void {
    this.lastHeardAt = Date.now();
  }

  send(message: ServerMessage): boolean {
    return this.sendRaw(JSON.stringify(message));
  }

  /** Sends pre-serialised text (one serialisation per event, however many connections receive it); false if not sent. */
  sendRaw(text: string): boolean {
    if (this.socket.readyState !== this.socket.OPEN) return false;
    const refusal = this.identity && this.policy.refusal(this.identity);
    if (refusal) {
      this.close(refusal.code, refusal.reason);
      return false;
    }
    if (this.socket.bufferedAmount > this.policy.maxBufferedBytes) {
      this.close(CLOSE.slowConsumer, 'slow consumer');
      return false;
    }
    this.socket.send(text);
    return true;
  }

  close(code: number, reason: string): void {
    if (this.socket.readyState === this.socket.OPEN || this.socket.readyState === this.socket.CONNECTING) this.socket.close(code, reason);
  }
}
