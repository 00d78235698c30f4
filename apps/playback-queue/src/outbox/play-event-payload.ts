import type { PlayEvent, PlayKind } from '../playback/playback.js';

/** A play event as stored in the outbox (jsonb) until recommendation has it. */
export interface PlayEventPayload {
  event_id: string;
  user_id: string;
  track_id: string;
  kind: PlayKind;
  played_ms: number;
  /** RFC 3339, UTC. */
  occurred_at: string;
}

export function toPayload(event: PlayEvent): PlayEventPayload {
  return {
    event_id: event.eventId,
    user_id: event.userId,
    track_id: event.trackId,
    kind: event.kind,
    played_ms: event.playedMs,
    occurred_at: event.occurredAt.toISOString(),
  };
}
