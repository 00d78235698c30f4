import type { PlayEventPayload } from './play-event-payload.js';

/** A play event on its way to recommendation, with the trace context of the call that caused it. */
export interface OutgoingPlayEvent {
  readonly payload: PlayEventPayload;
  readonly traceparent: string | undefined;
}

/**
 * What `PlayEventSink.deliver` throws when the receiver refused the events as invalid: sending the
 * same events again would be refused again, so the relay sets the refused one aside instead.
 */
export class PlayEventsRefused extends Error {}

/** Where the outbox relay delivers play events (the recommendation service); also its injection token. */
export abstract class PlayEventSink {
  /**
   * Resolves once every event was accepted (or recognised as a duplicate); rejects to have them
   * retried, or with PlayEventsRefused when retrying cannot help.
   */
  abstract deliver(events: readonly OutgoingPlayEvent[]): Promise<void>;
}
