import { playbackV1 } from '@overture/contracts';
import { idempotencyKeyField as idempotencyKey } from '@overture/idempotency';
import { z } from 'zod';

/** Track ids per add, insert or replace call (looked up in chunks of the catalogue's batch size). */
export const MAX_TRACKS_PER_CALL = 500;
const MAX_ITEMS_PER_REMOVE = 500;
const MAX_HISTORY_PAGE = 50;

// Set by the gateway from the authenticated caller; everything is scoped by it.
const userId = z.uuid({ message: 'must be the user id (UUID)' });
const queueItemId = z.uuid({ message: 'must be a queue item id (UUID)' });
const trackId = z.uuid({ message: 'must be a track id (UUID)' });
const expectedVersion = z.number().int().min(0, 'must not be negative').optional();
const deviceId = z
  .string()
  .min(1, 'is required')
  .max(128, 'at most 128 characters')
  .regex(/^[A-Za-z0-9._:-]+$/, 'may contain only letters, digits and . _ : -');
// Queue edits may name the device making them (for the change event); proto3 sends '' when unset.
const optionalDeviceId = z.union([z.literal(''), deviceId]);
const trackIds = z
  .array(trackId)
  .min(1, 'at least one track id is required')
  .max(MAX_TRACKS_PER_CALL, `at most ${MAX_TRACKS_PER_CALL} track ids per call`);

export const userRequestSchema = z.object({ userId });

export const addToQueueSchema = z.object({ userId, trackIds, expectedVersion, deviceId: optionalDeviceId, idempotencyKey });
export const insertNextSchema = addToQueueSchema;
export const replaceQueueSchema = addToQueueSchema;

export const removeQueueItemSchema = z.object({ userId, queueItemId, expectedVersion, deviceId: optionalDeviceId, idempotencyKey });

export const removeQueueItemsSchema = z.object({
  userId,
  queueItemIds: z
    .array(queueItemId)
    .min(1, 'at least one queue item id is required')
    .max(MAX_ITEMS_PER_REMOVE, `at most ${MAX_ITEMS_PER_REMOVE} ids per call`),
  expectedVersion,
  deviceId: optionalDeviceId,
  idempotencyKey,
});

export const moveQueueItemSchema = z.object({
  userId,
  queueItemId,
  beforeQueueItemId: z.union([z.literal(''), queueItemId]).transform((id) => id || undefined),
  expectedVersion,
  deviceId: optionalDeviceId,
  idempotencyKey,
});

export const clearQueueSchema = z.object({
  userId,
  upcomingOnly: z.boolean(),
  expectedVersion,
  deviceId: optionalDeviceId,
  idempotencyKey,
});

export const setShuffleSchema = z.object({ userId, shuffle: z.boolean(), expectedVersion, deviceId: optionalDeviceId, idempotencyKey });

const REPEAT_MODES = {
  [playbackV1.RepeatMode.REPEAT_MODE_OFF]: 'off',
  [playbackV1.RepeatMode.REPEAT_MODE_TRACK]: 'track',
  [playbackV1.RepeatMode.REPEAT_MODE_CONTEXT]: 'context',
} as const;

export const setRepeatSchema = z.object({
  userId,
  repeat: z
    .number()
    .refine((mode): mode is keyof typeof REPEAT_MODES => mode in REPEAT_MODES, 'must be REPEAT_MODE_OFF, _TRACK or _CONTEXT')
    .transform((mode) => REPEAT_MODES[mode]),
  expectedVersion,
  deviceId: optionalDeviceId,
  idempotencyKey,
});

export const skipToNextSchema = z.object({ userId, deviceId, trackEnded: z.boolean(), idempotencyKey });
export const skipToPreviousSchema = z.object({ userId, deviceId, idempotencyKey });
export const jumpToItemSchema = z.object({ userId, deviceId, queueItemId, idempotencyKey });
export const transferPlaybackSchema = z.object({ userId, deviceId, play: z.boolean().optional(), idempotencyKey });

export const reportProgressSchema = z.object({
  userId,
  deviceId,
  queueItemId,
  positionMs: z.number().int().min(0, 'must not be negative'),
  isPlaying: z.boolean(),
  playbackRate: z
    .number()
    .min(0, 'must not be negative')
    .max(4, 'must be at most 4')
    .transform((rate) => rate || 1)
    .refine((rate) => rate >= 0.25, 'must be at least 0.25 (or 0 for 1.0)'),
  clientTimestampMs: z.number().int().min(0, 'must not be negative').optional(),
  takeOver: z.boolean(),
  idempotencyKey,
});

export const listRecentlyPlayedSchema = z.object({
  userId,
  limit: z
    .number()
    .int()
    .min(0, 'must not be negative')
    .max(MAX_HISTORY_PAGE, `at most ${MAX_HISTORY_PAGE}`)
    .transform((limit) => limit || 20),
  cursor: z.string().max(200, 'is not a cursor of this listing'),
  includeSkips: z.boolean(),
});
