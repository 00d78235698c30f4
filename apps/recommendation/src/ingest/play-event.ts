export type PlayEventKind = 'play' | 'skip';

/** A validated play event, as playback-queue reports it. */
export interface PlayEvent {
  /** The idempotency key: a redelivered event carries the same id. */
  eventId: string;
  userId: string;
  trackId: string;
  kind: PlayEventKind;
  playedMs: number;
  occurredAt: Date;
  /** W3C trace context of the call that produced the event (the play), when it was traced. */
  traceparent?: string | undefined;
}

export interface RecordPlayEventsResult {
  /** Events seen for the first time, now stored and counted. */
  accepted: number;
  /** Events whose id was seen before (or repeated within the batch), ignored. */
  duplicates: number;
}
