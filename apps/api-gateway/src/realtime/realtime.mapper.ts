import { playbackV1 } from '@overture/contracts';
import type { QueuePayload, StatePayload } from './realtime.protocol.js';

const REPEAT: Record<playbackV1.RepeatMode, QueuePayload['repeat']> = {
  [playbackV1.RepeatMode.REPEAT_MODE_UNSPECIFIED]: 'off',
  [playbackV1.RepeatMode.REPEAT_MODE_OFF]: 'off',
  [playbackV1.RepeatMode.REPEAT_MODE_TRACK]: 'track',
  [playbackV1.RepeatMode.REPEAT_MODE_CONTEXT]: 'context',
};

export function queuePayload(queue: playbackV1.Queue): QueuePayload {
  return {
    items: queue.items.map((item) => ({ queue_item_id: item.queueItemId, track_id: item.trackId, added_at: item.addedAt })),
    current_queue_item_id: queue.currentQueueItemId || null,
    version: queue.version,
    shuffle: queue.shuffle,
    repeat: REPEAT[queue.repeat],
  };
}

export function statePayload(state: playbackV1.PlaybackState): StatePayload {
  const item = state.currentItem;
  return {
    device_id: state.deviceId,
    item: item ? { queue_item_id: item.queueItemId, track_id: item.trackId } : null,
    position_ms: state.positionMs,
    is_playing: state.isPlaying,
    playback_rate: state.playbackRate || 1,
    updated_at: state.updatedAt,
    server_time: state.serverTime,
    version: state.version,
  };
}
