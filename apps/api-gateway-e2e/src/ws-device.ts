import { BEARER_PROTOCOL_PREFIX, WS_PATH, WS_SUBPROTOCOL } from '@overture/gateway-contract';
import { once } from 'node:events';
import { vi } from 'vitest';
import WebSocket from 'ws';

/** A server message on /v1/ws, with the fields the tests read. */
export interface Message {
  type: string;
  version?: number;
  change?: string;
  device_id?: string | null;
  state?: { device_id: string; item: { queue_item_id: string } | null; position_ms: number } | null;
  queue?: { version: number; items: { queue_item_id: string }[] };
  queue_version?: number;
  reason?: string;
  retry_after_ms?: number;
}

/** A device's WebSocket: what it received, and how and when it was closed, with bounded waits for either. */
export class Device {
  readonly messages: Message[] = [];
  closed: { code: number; reason: string; at: number } | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.messages.push(JSON.parse(String(data)) as Message));
    ws.on('close', (code, reason) => (this.closed = { code, reason: String(reason), at: Date.now() }));
    ws.on('error', () => undefined);
  }

  /** A socket to /v1/ws, with the token as the `bearer.` subprotocol when given. */
  static open(gatewayUrl: string, token?: string, options: WebSocket.ClientOptions = {}): WebSocket {
    const protocols = token ? [WS_SUBPROTOCOL, `${BEARER_PROTOCOL_PREFIX}${token}`] : [WS_SUBPROTOCOL];
    return new WebSocket(`${gatewayUrl.replace(/^http/, 'ws')}${WS_PATH}`, protocols, options);
  }

  static async connect(gatewayUrl: string, token?: string, options: WebSocket.ClientOptions = {}): Promise<Device> {
    const device = new Device(Device.open(gatewayUrl, token, options));
    await once(device.ws, 'open');
    return device;
  }

  async next(predicate: (m: Message) => boolean, what: string): Promise<Message> {
    return vi.waitFor(
      () => {
        const found = this.messages.find(predicate);
        if (!found) throw new Error(`${what}; got ${JSON.stringify(this.messages)}`);
        return found;
      },
      { timeout: 10_000, interval: 10 },
    );
  }

  async whenClosed(timeout = 10_000): Promise<{ code: number; reason: string; at: number }> {
    return vi.waitFor(
      () => {
        if (!this.closed) throw new Error('not closed');
        return this.closed;
      },
      { timeout, interval: 5 },
    );
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.ws.close();
    await this.whenClosed();
  }
}
