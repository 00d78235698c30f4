import { z } from 'zod';
import { trackId } from './catalogue.schemas.js';
import { trackViewSchema } from './track.schema.js';

/** Track ids per add, insert or replace request. */
export const MAX_QUEUE_TRACK_IDS = 500;
const MAX_REMOVE_IDS = 500;
const MAX_HISTORY_PAGE = 50;

const queueItemId = z.uuid('must be a queue item id (UUID)');
export const deviceIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1 to 128 letters, digits or . _ : -')
  .describe('The client device, chosen by the client and stable across its sessions.');
const deviceId = deviceIdSchema;
const trackIds = z.array(trackId).min(1, 'at least one id is required').max(MAX_QUEUE_TRACK_IDS, `at most ${MAX_QUEUE_TRACK_IDS} ids`);
const repeatMode = z.enum(['off', 'track', 'context'], 'must be "off", "track" or "context"');
export type RepeatModeName = z.output<typeof repeatMode>;

export const addToQueueBodySchema = z.strictObject({
  track_ids: trackIds,
  position: z
    .enum(['end', 'next'], 'must be "end" or "next"')
    .default('end')
    .describe('"end" appends; "next" inserts right after the current item.'),
});
export type AddToQueueBody = z.output<typeof addToQueueBodySchema>;

export const replaceQueueBodySchema = z.strictObject({ track_ids: trackIds });
export type ReplaceQueueBody = z.output<typeof replaceQueueBodySchema>;

export const clearQueueQuerySchema = z.strictObject({
  scope: z.enum(['upcoming', 'all'], 'must be "upcoming" (after the current item) or "all"'),
});
export type ClearQueueQuery = z.output<typeof clearQueueQuerySchema>;

export const removeItemsBodySchema = z.strictObject({
  queue_item_ids: z.array(queueItemId).min(1, 'at least one id is required').max(MAX_REMOVE_IDS, `at most ${MAX_REMOVE_IDS} ids`),
});
export type RemoveItemsBody = z.output<typeof removeItemsBodySchema>;

export const moveItemBodySchema = z.strictObject({
  before_queue_item_id: queueItemId.nullable().describe('The item to move before; null moves it to the end.'),
});
export type MoveItemBody = z.output<typeof moveItemBodySchema>;

export const shuffleBodySchema = z.strictObject({ shuffle: z.boolean() });
export type ShuffleBody = z.output<typeof shuffleBodySchema>;

export const repeatBodySchema = z.strictObject({ repeat: repeatMode });
export type RepeatBody = z.output<typeof repeatBodySchema>;

export const queueItemParamsSchema = z.strictObject({ queue_item_id: queueItemId });
export type QueueItemParams = z.output<typeof queueItemParamsSchema>;

/** `If-Match: "<version>"` (the queue's ETag) makes a change conditional on the queue being at that version. */
export const ifMatchSchema = z
  .string()
  .regex(/^(\*|"\d{1,15}")$/, 'must be the queue version in quotes, e.g. "12", as the queue ETag gives it')
  .optional()
  .transform((value) => (value === undefined || value === '*' ? undefined : Number(value.slice(1, -1))))
  .describe('Apply the change only if the queue is still at this version (its ETag); 409 with the current queue otherwise.');

/** `If-None-Match` on a queue read: 304 when the queue is still at that version. */
export const ifNoneMatchSchema = z
  .string()
  .max(200, 'is too long')
  .optional()
  .describe('The queue ETag you have; 304 Not Modified while the queue is still at that version.');

export const deviceHeaderSchema = deviceId
  .optional()
  .describe('The device making a queue change; change events name it, so it can skip its own echo.');

export const skipBodySchema = z.strictObject({
  device_id: deviceId,
  track_ended: z.boolean().default(false).describe('The current track played to its end (under repeat "track" it starts again).'),
});
export type SkipBody = z.output<typeof skipBodySchema>;

export const previousBodySchema = z.strictObject({ device_id: deviceId });
export type PreviousBody = z.output<typeof previousBodySchema>;

export const jumpBodySchema = z.strictObject({ device_id: deviceId });
export type JumpBody = z.output<typeof jumpBodySchema>;

export const transferBodySchema = z.strictObject({
  device_id: deviceId.describe('The device to play on from now on.'),
  play: z.boolean().optional().describe('Play (true) or pause (false) there; absent keeps the current play/pause.'),
});
export type TransferBody = z.output<typeof transferBodySchema>;

export const progressBodySchema = z.strictObject({
  device_id: deviceId,
  queue_item_id: queueItemId,
  position_ms: z.number().int('must be a whole number').min(0, 'must not be negative').max(86_400_000, 'must be at most 24 h'),
  is_playing: z.boolean(),
  playback_rate: z.number().min(0.25, 'must be at least 0.25').max(4, 'must be at most 4').default(1),
  client_timestamp_ms: z
    .number()
    .int('must be a whole number')
    .min(0, 'must not be negative')
    .max(Number.MAX_SAFE_INTEGER, 'is too large')
    .optional()
    .describe("The device's clock (epoch ms) or a per-device counter: a report not newer than the device's latest is ignored."),
  take_over: z.boolean().default(false).describe("Make this device the active one; without it another device's report is ignored."),
});
export type ProgressBody = z.output<typeof progressBodySchema>;

export const recentlyPlayedQuerySchema = z.strictObject({
  limit: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(MAX_HISTORY_PAGE, `must be at most ${MAX_HISTORY_PAGE}`)
    .default(20),
  cursor: z.string().max(200, 'is not a cursor of this listing').optional().describe('next_cursor of the previous page.'),
  include_skips: z
    .enum(['true', 'false'], 'must be true or false')
    .default('false')
    .transform((value) => value === 'true'),
});
export type RecentlyPlayedQuery = z.output<typeof recentlyPlayedQuerySchema>;

export const queueViewSchema = z
  .object({
    items: z.array(
      z.object({
        queue_item_id: z.uuid(),
        track: trackViewSchema.nullable().describe('null when the track has left the catalogue, or could not be read (partial)'),
        added_at: z.string().describe('RFC 3339, UTC'),
      }),
    ),
    current_queue_item_id: z.uuid().nullable().describe('null until something has been played'),
    version: z.number().int().describe('Changes with every change to the queue; also sent as the ETag.'),
    shuffle: z.boolean(),
    repeat: repeatMode,
    partial: z
      .boolean()
      .describe(
        'true when the change was applied but some track details could not be read from the catalogue in time: those tracks are null. Read again for them.',
      ),
  })
  .meta({ id: 'Queue' });
export type QueueView = z.output<typeof queueViewSchema>;

export const playerStateViewSchema = z
  .object({
    device_id: z.string().describe('The active device'),
    item: z.object({ queue_item_id: z.uuid(), track: trackViewSchema.nullable() }).nullable(),
    position_ms: z.number().int().describe('At updated_at; while playing it advances by playback_rate × elapsed time'),
    is_playing: z.boolean(),
    playback_rate: z.number(),
    updated_at: z.string().describe('RFC 3339, UTC: server time of the last change, to extrapolate the position'),
    server_time: z.string().describe("RFC 3339, UTC: the server's clock when answering, to correct for the client's clock"),
    version: z.number().int(),
    partial: z
      .boolean()
      .describe(
        'true when the change was applied but some track details could not be read from the catalogue in time: those tracks are null. Read again for them.',
      ),
  })
  .meta({ id: 'PlayerState' });
export type PlayerStateView = z.output<typeof playerStateViewSchema>;

export const progressViewSchema = playerStateViewSchema
  .extend({
    applied: z.boolean().describe('false when the report was ignored; the state is then unchanged'),
    ignored_reason: z.enum(['STALE_REPORT', 'NOT_ACTIVE_DEVICE']).nullable(),
  })
  .meta({ id: 'ProgressResult' });
export type ProgressView = z.output<typeof progressViewSchema>;

export const devicesViewSchema = z
  .object({
    devices: z.array(z.object({ device_id: z.string(), is_active: z.boolean(), last_seen_at: z.string().describe('RFC 3339, UTC') })),
  })
  .meta({ id: 'Devices' });
export type DevicesView = z.output<typeof devicesViewSchema>;

export const recentlyPlayedViewSchema = z
  .object({
    items: z.array(
      z.object({
        track: trackViewSchema.nullable(),
        queue_item_id: z.uuid(),
        kind: z.enum(['play', 'skip']),
        played_ms: z.number().int(),
        played_at: z.string().describe('RFC 3339, UTC'),
      }),
    ),
    next_cursor: z.string().nullable().describe('Pass as cursor for the next (older) page; null at the end'),
  })
  .meta({ id: 'RecentlyPlayed' });
export type RecentlyPlayedView = z.output<typeof recentlyPlayedViewSchema>;
