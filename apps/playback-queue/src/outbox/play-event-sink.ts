import type { PlayEventPayload } from './play-event-payload.js';

/** Where the outbox relay delivers play events (the recommendation service); also its injection token. */
export abstract class PlayEventSink {
  /** Resolves once every event was accepted (or recognised as a duplicate); rejects to have them retried. */
  abstract deliver(events: readonly PlayEventPayload[]): Promise<void>;
}
