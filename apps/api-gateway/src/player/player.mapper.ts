import { playbackV1 } from '@overture/contracts';
import type {
  DevicesView,
  PlayerStateView,
  ProgressBody,
  ProgressView,
  QueuePayload,
  QueueView,
  RecentlyPlayedView,
  RepeatModeName,
  StatePayload,
  TrackView,
} from '@overture/gateway-contract';

/**
 * The playback service's queue and state as clients see them: over REST with each track resolved
 * (`…View`), pushed over the WebSocket with track ids only (`…Payload`).
 */

/** Tracks resolved from the catalogue by id; an id missing from it has left the catalogue. */
export type TracksById = ReadonlyMap<string, TrackView>;

/**
 * The tracks a view shows, and whether reading them failed after a committed change (`partial`:
 * then there are none, and the view's tracks are null rather than the change answered as a failure).
 */
export interface Enrichment {
  readonly tracks: TracksById;
  readonly partial: boolean;
}

const REPEAT_NAMES: Record<playbackV1.RepeatMode, RepeatModeName> = {
  [playbackV1.RepeatMode.REPEAT_MODE_UNSPECIFIED]: 'off',
  [playbackV1.RepeatMode.REPEAT_MODE_OFF]: 'off',
  [playbackV1.RepeatMode.REPEAT_MODE_TRACK]: 'track',
  [playbackV1.RepeatMode.REPEAT_MODE_CONTEXT]: 'context',
};
const REPEAT_MODES: Record<RepeatModeName, playbackV1.RepeatMode> = {
  off: playbackV1.RepeatMode.REPEAT_MODE_OFF,
  track: playbackV1.RepeatMode.REPEAT_MODE_TRACK,
  context: playbackV1.RepeatMode.REPEAT_MODE_CONTEXT,
};

export const toRepeatMode = (name: RepeatModeName): playbackV1.RepeatMode => REPEAT_MODES[name];

/** The track ids a queue or state refers to, to resolve in one catalogue call. */
export function trackIdsOf(source: playbackV1.Queue | playbackV1.PlaybackState): string[] {
  if ('items' in source) return source.items.map((item) => item.trackId);
  return source.currentItem ? [source.currentItem.trackId] : [];
}

export function toQueuePayload(queue: playbackV1.Queue): QueuePayload {
  return {
    items: queue.items.map((item) => ({ queue_item_id: item.queueItemId, track_id: item.trackId, added_at: item.addedAt })),
    current_queue_item_id: queue.currentQueueItemId || null,
    version: queue.version,
    shuffle: queue.shuffle,
    repeat: REPEAT_NAMES[queue.repeat],
  };
}

export function toQueueView(queue: playbackV1.Queue, { tracks, partial }: Enrichment): QueueView {
  const { items, ...rest } = toQueuePayload(queue);
  return { ...rest, items: items.map(({ track_id, ...item }) => ({ ...item, track: tracks.get(track_id) ?? null })), partial };
}

export function toStatePayload(state: playbackV1.PlaybackState): StatePayload {
  const item = state.currentItem;
  return {
    device_id: state.deviceId,
    item: item ? { queue_item_id: item.queueItemId, track_id: item.trackId } : null,
    position_ms: state.positionMs,
    is_playing: state.isPlaying,
    playback_rate: state.playbackRate || 1,
    updated_at: state.updatedAt,
    server_time: state.serverTime || new Date().toISOString(),
    version: state.version,
  };
}

export function toStateView(state: playbackV1.PlaybackState, { tracks, partial }: Enrichment): PlayerStateView {
  const { item, ...rest } = toStatePayload(state);
  return { ...rest, item: item ? { queue_item_id: item.queue_item_id, track: tracks.get(item.track_id) ?? null } : null, partial };
}

export function toProgressRequest(userId: string, progress: ProgressBody): playbackV1.ReportProgressRequest {
  return {
    userId,
    deviceId: progress.device_id,
    queueItemId: progress.queue_item_id,
    positionMs: progress.position_ms,
    isPlaying: progress.is_playing,
    playbackRate: progress.playback_rate,
    clientTimestampMs: progress.client_timestamp_ms,
    takeOver: progress.take_over,
  };
}

export function toProgressView(outcome: { applied: boolean; ignoredReason: string }, state: PlayerStateView): ProgressView {
  const reason = outcome.ignoredReason;
  return {
    ...state,
    applied: outcome.applied,
    ignored_reason: reason === 'STALE_REPORT' || reason === 'NOT_ACTIVE_DEVICE' ? reason : null,
  };
}

export function toDevicesView(devices: readonly playbackV1.Device[]): DevicesView {
  return { devices: devices.map((d) => ({ device_id: d.deviceId, is_active: d.isActive, last_seen_at: d.lastSeenAt })) };
}

export function toRecentlyPlayedView(page: playbackV1.ListRecentlyPlayedResponse, tracks: TracksById): RecentlyPlayedView {
  return {
    items: page.items.map((item) => ({
      track: tracks.get(item.trackId) ?? null,
      queue_item_id: item.queueItemId,
      kind: item.kind === 'skip' ? 'skip' : 'play',
      played_ms: item.playedMs,
      played_at: item.playedAt,
    })),
    next_cursor: page.nextCursor || null,
  };
}
