import { z } from 'zod';

/** The path of the WebSocket endpoint. */
export const WS_PATH = '/v1/ws';
/** The subprotocol clients offer (and the server selects), next to `bearer.<access token>`. */
export const WS_SUBPROTOCOL = 'overture.v1';
export const BEARER_PROTOCOL_PREFIX = 'bearer.';
/** Largest message a client may send; the server closes the connection (1009) on a larger one. */
export const MAX_CLIENT_MESSAGE_BYTES = 4096;

/** Close codes in the private range (4000–4999), each with a reason clients can act on. */
export const CLOSE = {
  /**
   * No valid token in time, an invalid one, it expired without a fresh `auth`, its session was
   * revoked or the account's roles changed: reconnect with a new (refreshed) token.
   */
  unauthenticated: 4401,
  /** The account's roles no longer grant `player:read`, or a token for another user on an authenticated connection. */
  forbidden: 4403,
  /** Nothing received for WS_IDLE_TIMEOUT_MS. */
  idle: 4408,
  /** The client does not read fast enough (WS_MAX_BUFFERED_BYTES unsent). */
  slowConsumer: 4429,
  /** The user already has WS_MAX_CONNECTIONS_PER_USER connections on this replica. */
  tooManyConnections: 4430,
  /** The client kept sending after being told it was over the message rate. */
  tooManyMessages: 4431,
  /** The gateway is shutting down: reconnect (to another replica). */
  goingAway: 1001,
} as const;

const version = z.number().int().min(0).nullable().optional();

/** Messages a client may send, as JSON text frames. */
export const clientMessageSchema = z.discriminatedUnion('type', [
  // Authenticates a connection opened without a token, or renews the token of an open one.
  z.strictObject({ type: z.literal('auth'), token: z.string().min(1).max(4096) }),
  // After (re)connecting or a `resync`: the versions last seen; the server answers with what differs.
  z.strictObject({ type: z.literal('resume'), queue_version: version, state_version: version }),
  z.strictObject({ type: z.literal('ping') }),
]);
export type ClientMessage = z.output<typeof clientMessageSchema>;

export interface StatePayload {
  device_id: string;
  item: { queue_item_id: string; track_id: string } | null;
  position_ms: number;
  is_playing: boolean;
  playback_rate: number;
  updated_at: string;
  server_time: string;
  version: number;
}

export interface QueuePayload {
  items: { queue_item_id: string; track_id: string; added_at: string }[];
  current_queue_item_id: string | null;
  version: number;
  shuffle: boolean;
  repeat: 'off' | 'track' | 'context';
}

/** What a message costs of the client's message allowance; `resume` makes two service calls and may answer with the whole queue. */
export const MESSAGE_COST: Readonly<Record<ClientMessage['type'], number>> = { auth: 1, ping: 1, resume: 5 };

/** Messages the server sends. */
export type ServerMessage =
  | { type: 'ready'; user_id: string; ping_interval_ms: number; idle_timeout_ms: number }
  | { type: 'queue.changed'; version: number; change: string; device_id: string | null; queue?: QueuePayload }
  | { type: 'player.state_changed'; version: number; device_id: string | null; state: StatePayload | null }
  /** Changes may have been missed: send `resume` with the versions you have. */
  | { type: 'resync' }
  | { type: 'resumed'; queue_version: number; state_version: number | null }
  | { type: 'pong' }
  | { type: 'error'; reason: string; message: string; retry_after_ms?: number };
