import { recommendationV1 } from '@overture/contracts';
import { z } from 'zod';
import type { PlayEventKind } from './play-event.js';

const MAX_EVENTS = 500;

// Events may come from device clocks; a little skew is fine, a date far ahead would pin a track
// as "most recently played" for ever.
const MAX_CLOCK_SKEW_MS = 24 * 60 * 60 * 1000;

const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

const { PLAY_EVENT_KIND_PLAY: PLAY, PLAY_EVENT_KIND_SKIP: SKIP } = recommendationV1.PlayEventKind;

// Lower-cased as PostgreSQL returns uuids, so ids read back (e.g. the RETURNING of new event ids)
// compare equal to the ids sent.
const uuid = (message: string) => z.uuid({ message }).transform((id) => id.toLowerCase());

const playEventSchema = z.object({
  eventId: uuid('must be a UUID'),
  userId: uuid('must be a user id (UUID)'),
  trackId: uuid('must be a track id (UUID)'),
  kind: z
    .literal([PLAY, SKIP], { message: 'must be PLAY_EVENT_KIND_PLAY or PLAY_EVENT_KIND_SKIP' })
    .transform((kind): PlayEventKind => (kind === PLAY ? 'play' : 'skip')),
  playedMs: z.number().int().min(0, 'must not be negative'),
  occurredAt: z.iso
    .datetime({ offset: true, message: 'must be an RFC 3339 timestamp, e.g. 2025-11-21T10:00:00Z' })
    .transform((value) => new Date(value))
    .refine((date) => date.getTime() <= Date.now() + MAX_CLOCK_SKEW_MS, 'must not be more than a day in the future'),
  // Only ever used to link spans: a value that is not a traceparent is dropped, never refused.
  traceparent: z
    .string()
    .optional()
    .transform((value) => (value && TRACEPARENT.test(value) ? value : undefined)),
});

export const recordPlayEventsSchema = z.object({
  events: z.array(playEventSchema).min(1, 'at least one event is required').max(MAX_EVENTS, `at most ${MAX_EVENTS} events`),
});
