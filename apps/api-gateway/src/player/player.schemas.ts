import { z } from 'zod';
import { MAX_TRACK_IDS, trackId } from '../catalogue/catalogue.schemas.js';
import { trackViewSchema } from '../catalogue/track.view.js';

const queueItemId = z.uuid('must be a queue item id (UUID)');
const deviceId = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1 to 128 letters, digits or . _ : -')
  .describe('The client device, chosen by the client and stable across its sessions.');

export const addToQueueBodySchema = z.strictObject({
  track_ids: z.array(trackId).min(1, 'at least one id is required').max(MAX_TRACK_IDS, `at most ${MAX_TRACK_IDS} ids`),
});
export type AddToQueueBody = z.output<typeof addToQueueBodySchema>;

export const queueItemParamsSchema = z.strictObject({ queue_item_id: queueItemId });
export type QueueItemParams = z.output<typeof queueItemParamsSchema>;

/** `If-Match: "<version>"` (the queue's ETag) makes a change conditional on the queue being at that version. */
export const ifMatchSchema = z
  .string()
  .regex(/^(\*|"\d{1,15}")$/, 'must be the queue version in quotes, e.g. "12", as the queue ETag gives it')
  .optional()
  .transform((value) => (value === undefined || value === '*' ? undefined : Number(value.slice(1, -1))))
  .describe('Apply the change only if the queue is still at this version (its ETag); 409 otherwise.');

export const skipBodySchema = z.strictObject({ device_id: deviceId });
export type SkipBody = z.output<typeof skipBodySchema>;

export const progressBodySchema = z.strictObject({
  device_id: deviceId,
  queue_item_id: queueItemId,
  position_ms: z.number().int('must be a whole number').min(0, 'must not be negative').max(86_400_000, 'must be at most 24 h'),
  is_playing: z.boolean(),
});
export type ProgressBody = z.output<typeof progressBodySchema>;

export const queueViewSchema = z
  .object({
    items: z.array(
      z.object({
        queue_item_id: z.uuid(),
        track: trackViewSchema.nullable().describe('null when the track has left the catalogue'),
        added_at: z.string().describe('RFC 3339, UTC'),
      }),
    ),
    current_queue_item_id: z.uuid().nullable().describe('null until something has been played'),
    version: z.number().int().describe('Changes with every change to the queue; also sent as the ETag.'),
  })
  .meta({ id: 'Queue' });
export type QueueView = z.output<typeof queueViewSchema>;

export const playerStateViewSchema = z
  .object({
    device_id: z.string(),
    item: z.object({ queue_item_id: z.uuid(), track: trackViewSchema.nullable() }).nullable(),
    position_ms: z.number().int(),
    is_playing: z.boolean(),
    updated_at: z.string().describe('RFC 3339, UTC: server time of the last change, to extrapolate the position'),
    version: z.number().int(),
  })
  .meta({ id: 'PlayerState' });
export type PlayerStateView = z.output<typeof playerStateViewSchema>;
