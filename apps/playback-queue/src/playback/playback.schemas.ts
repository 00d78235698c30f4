import { z } from 'zod';

const MAX_TRACKS_PER_ADD = 100;

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

export const userRequestSchema = z.object({ userId });

export const addToQueueSchema = z.object({
  userId,
  trackIds: z
    .array(trackId)
    .min(1, 'at least one track id is required')
    .max(MAX_TRACKS_PER_ADD, `at most ${MAX_TRACKS_PER_ADD} track ids per call`),
  expectedVersion,
});

export const removeQueueItemSchema = z.object({ userId, queueItemId, expectedVersion });

export const skipToNextSchema = z.object({ userId, deviceId });

export const reportProgressSchema = z.object({
  userId,
  deviceId,
  queueItemId,
  positionMs: z.number().int().min(0, 'must not be negative'),
  isPlaying: z.boolean(),
});
